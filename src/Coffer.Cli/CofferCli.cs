using System.CommandLine;
using System.CommandLine.Invocation;
using Coffer.Cli.Client;
using Coffer.Cli.Commands;

namespace Coffer.Cli;

/// <summary>
/// <c>coffer</c>: one executable that is both the server and its CLI (docs/design.md, "Shape").
/// Program.cs calls this with the console; tests call it in-process with their own writers and
/// environment.
/// </summary>
internal static class CofferCli
{
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct = default) =>
        RunAsync(args, CliEnvironment.ForProcess(stdout, stderr), ct);

    public static async Task<int> RunAsync(string[] args, CliEnvironment env, CancellationToken ct = default)
    {
        var root = new RootCommand("Coffer: a self-hosted external key manager for AWS KMS (XKS proxy API v1).");
        DevCommand.AddTo(root);
        ServerCommand.AddTo(root);
        SystemCommands.AddTo(root, env);
        MasterKeyCommands.AddTo(root, env);
        RekeyCommands.AddTo(root, env);
        KeyStoreCommands.AddTo(root, env);
        KeyCommands.AddTo(root, env);
        AuditCommands.AddTo(root, env);
        AuditSinkCommands.AddTo(root, env);
        KillSwitchCommands.AddTo(root, env);
        TokenCommands.AddTo(root, env);
        PrincipalCommands.AddTo(root, env);
        RoleCommands.AddTo(root, env);
        AlertCommands.AddTo(root, env);
        PolicyCommands.AddTo(root, env);
        RegionSetCommands.AddTo(root, env);
        QuorumCommands.AddTo(root, env);
        ApprovalCommands.AddTo(root, env);
        BackupCommands.AddTo(root, env);
        VersionCommand.AddTo(root, env);

        var parse = root.Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            // Usage errors exit 2 (as getopt-style tools do), failures of the operation itself 1.
            foreach (var error in parse.Errors)
            {
                await env.Error.WriteLineAsync($"Error: {error.Message}");
            }

            await env.Error.WriteLineAsync($"See `coffer {string.Join(' ', CommandPath(parse))} --help`.".Replace("  ", " ", StringComparison.Ordinal));
            return CliException.Usage;
        }

        // No termination handling by the library: coffer server and coffer dev handle the stop signals
        // themselves (StopSignals); for every other command Ctrl+C ends the process at once.
        var invocation = new InvocationConfiguration { Output = env.Out, Error = env.Error, ProcessTerminationTimeout = null };
        return await parse.InvokeAsync(invocation, ct);
    }

    private static IEnumerable<string> CommandPath(ParseResult parse)
    {
        var names = new Stack<string>();
        for (var result = parse.CommandResult; result.Parent is System.CommandLine.Parsing.CommandResult parent; result = parent)
        {
            names.Push(result.Command.Name);
        }

        return names;
    }
}
