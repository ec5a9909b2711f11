using System.CommandLine;

namespace Coffer.Cli.Commands;

internal static class KeyCommands
{
    public static void AddTo(RootCommand root) { _ = root; }
}
