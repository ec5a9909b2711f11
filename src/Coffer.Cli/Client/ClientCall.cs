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
}
