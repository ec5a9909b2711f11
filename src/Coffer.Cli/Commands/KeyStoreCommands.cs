using System.CommandLine;

namespace Coffer.Cli.Commands;

internal static class KeyStoreCommands
{
    public static void AddTo(RootCommand root) { _ = root; }
}
