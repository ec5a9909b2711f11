using System.CommandLine;

namespace Coffer.Cli.Commands;

internal static class SystemCommands
{
    public static void AddTo(RootCommand root) { _ = root; }
}
