using System.Text;

namespace Coffer.Cli.Client;

/// <summary>
/// What a CLI verb may read or write of the outside world: output streams, stdin, environment
/// variables and the working directory. Tests run the CLI in-process with their own, so parallel
/// tests never share <c>COFFER_TOKEN</c> or the current directory.
/// </summary>
internal sealed record CliEnvironment
{
    public TextWriter Out { get; init; } = TextWriter.Null;

    public TextWriter Error { get; init; } = TextWriter.Null;

    public TextReader Input { get; init; } = TextReader.Null;

    /// <summary>True when stdin is a terminal: secrets are then read without echo.</summary>
    public bool InputIsTerminal { get; init; }

    public IReadOnlyDictionary<string, string> Variables { get; init; } = new Dictionary<string, string>();

    public string WorkingDirectory { get; init; } = Environment.CurrentDirectory;

    /// <summary>The real process: console streams, environment variables, current directory.</summary>
    public static CliEnvironment ForProcess(TextWriter stdout, TextWriter stderr)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in new[] { ClientSettings.AddressVariable, ClientSettings.TokenVariable, ClientSettings.ReasonVariable, ClientSettings.TimeoutVariable })
        {
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } value)
            {
                variables[name] = value;
            }
        }

        return new CliEnvironment
        {
            Out = stdout,
            Error = stderr,
            Input = Console.In,
            InputIsTerminal = !Console.IsInputRedirected,
            Variables = variables,
        };
    }

    public string? Variable(string name) => Variables.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

    /// <summary>
    /// Reads one secret line: from a terminal without echo (so it is neither shown nor kept in the
    /// scrollback), otherwise the next line of stdin (a pipe or a file, never the command line).
    /// </summary>
    public string? ReadSecret(string prompt)
    {
        if (!InputIsTerminal)
        {
            return Input.ReadLine();
        }

        Error.Write(prompt);
        Error.Flush();
        var secret = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (secret.Length > 0)
                {
                    secret.Length--;
                }
            }
            else if (!char.IsControl(key.KeyChar))
            {
                secret.Append(key.KeyChar);
            }
        }

        Error.WriteLine();
        return secret.ToString();
    }
}
