using System.Diagnostics;
using System.Text.Json;
using Coffer.Cli;
using Coffer.Cli.Client;
using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary>What one <c>coffer</c> run printed and returned.</summary>
internal sealed record CliResult(int ExitCode, string Out, string Error)
{
    /// <summary>stdout parsed as JSON (for --json runs).</summary>
    public JsonElement Json
    {
        get
        {
            using var document = JsonDocument.Parse(Out);
            return document.RootElement.Clone();
        }
    }

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Error}";
}

/// <summary>
/// Runs the CLI: in-process through <see cref="CofferCli.RunAsync(string[], CliEnvironment, CancellationToken)"/>
/// with a private environment (so parallel tests never share variables or a working directory), or
/// as a real <c>dotnet coffer.dll</c> process.
/// </summary>
internal static class Cli
{
    /// <summary>Runs against a dev node with COFFER_ADDR and COFFER_TOKEN set, from an empty directory.</summary>
    public static Task<CliResult> RunAsync(DevServer node, params string[] args) =>
        RunAsync(Environment(node.Info.AdminUrl, node.Info.AdminToken), args);

    public static async Task<CliResult> RunAsync(CliEnvironment env, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await CofferCli.RunAsync(args, env with { Out = stdout, Error = stderr });
        return new CliResult(exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>An environment with the given settings (null leaves one unset) and an empty working directory.</summary>
    public static CliEnvironment Environment(string? address, string? token, string? stdin = null, string? workingDirectory = null)
    {
        var variables = new Dictionary<string, string>();
        if (address is not null)
        {
            variables[ClientSettings.AddressVariable] = address;
        }

        if (token is not null)
        {
            variables[ClientSettings.TokenVariable] = token;
        }

        return new CliEnvironment
        {
            Variables = variables,
            Input = new StringReader(stdin ?? string.Empty),
            InputIsTerminal = false,
            WorkingDirectory = workingDirectory ?? SharedEmptyDirectory,
        };
    }

    /// <summary>Where runs that write nothing start: no .coffer-dev, so no dev.json is found by accident.</summary>
    private static string SharedEmptyDirectory { get; } = EmptyDirectory();

    public static string EmptyDirectory() => Directory.CreateTempSubdirectory("coffer-cli-").FullName;

    /// <summary>Runs the built executable (<c>dotnet coffer.dll</c>) as its own process.</summary>
    public static async Task<CliResult> RunProcessAsync(IReadOnlyDictionary<string, string> variables, string? stdin, params string[] args)
    {
        var start = new ProcessStartInfo(System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = SharedEmptyDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "coffer.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // The test runner's own settings must not leak into the child.
        start.Environment.Remove(ClientSettings.AddressVariable);
        start.Environment.Remove(ClientSettings.TokenVariable);
        foreach (var (name, value) in variables)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
