namespace Coffer.Cli.Commands;

/// <summary>The operator stopped the server (SIGTERM, Ctrl+C) while it was still starting: what had
/// opened is closed again, and that is a clean stop, not a failure.</summary>
internal static class StoppedWhileStarting
{
    public static int Report()
    {
        Console.Error.WriteLine("Coffer stopped before it finished starting.");
        return 0;
    }
}
