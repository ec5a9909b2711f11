using System.CommandLine;

namespace Coffer.Cli.Client;

/// <summary>What a verb that calls the management API is given when it runs.</summary>
internal sealed class ClientCall(ParseResult parse, CliEnvironment env, ClientSettings settings, ManagementClient api, bool json)
{
    public ParseResult Parse { get; } = parse;

    public CliEnvironment Env { get; } = env;

    public ClientSettings Settings { get; } = settings;

    public ManagementClient Api { get; } = api;

    /// <summary>--json: print the API's JSON instead of tables.</summary>
    public bool Json { get; } = json;

    public TextWriter Out => Env.Out;

    public TextWriter Error => Env.Error;

    /// <summary>Prints an answer: the API's JSON as sent with --json, else the given table.</summary>
    public void Print<T>(ApiResult<T> result, Action<TextWriter, T> table)
    {
        if (Json)
        {
            Output.Json.Write(Out, result.Json);
        }
        else
        {
            table(Out, result.Value);
        }
    }
}
