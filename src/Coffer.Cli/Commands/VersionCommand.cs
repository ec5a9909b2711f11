using System.CommandLine;
using System.Runtime.InteropServices;
using Coffer.Cli.Client;
using Coffer.Server.Hosting;

namespace Coffer.Cli.Commands;

/// <summary><c>coffer version</c>: which build this is, so an operator can tell what a node runs and
/// whether its runtime has the security patches they expect (docs/install.md, "Which build is this").</summary>
internal static class VersionCommand
{
    public static void AddTo(RootCommand root, CliEnvironment env)
    {
        var command = new Command("version", "Show Coffer's version, the git commit it was built from and the .NET runtime it runs on.");
        command.SetAction(async (_, ct) =>
        {
            var commit = BuildInfo.Commit is null
                ? "unknown (built outside a git work tree)"
                : BuildInfo.Commit + (BuildInfo.Dirty ? " (with uncommitted changes)" : "");
            await env.Out.WriteLineAsync($"Coffer   {BuildInfo.Version}".AsMemory(), ct);
            await env.Out.WriteLineAsync($"Commit   {commit}".AsMemory(), ct);
            await env.Out.WriteLineAsync($"Runtime  {RuntimeInformation.FrameworkDescription} ({RuntimeInformation.RuntimeIdentifier})".AsMemory(), ct);
            return 0;
        });
        root.Subcommands.Add(command);
    }
}
