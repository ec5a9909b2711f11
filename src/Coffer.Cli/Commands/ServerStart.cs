using Microsoft.Extensions.Options;

namespace Coffer.Cli.Commands;

/// <summary>
/// How <c>coffer server</c> and <c>coffer dev</c> end when their server does not start, without a
/// stack trace: a configuration the server refused, every problem on a line of its own, naming its
/// setting (nothing in it is Coffer's fault: exit 1), or the operator's stop (SIGTERM, Ctrl+C) while it
/// started, after which what had opened is closed again (a clean stop: exit 0).
/// </summary>
internal static class ServerStart
{
    /// <returns>What <paramref name="start"/> started, or the exit code when it did not start.</returns>
    public static async Task<(T Started, int? ExitCode)> TryAsync<T>(Func<Task<T>> start, Logging logging, CancellationToken ct)
    {
        try
        {
            return (await start(), null);
        }
        catch (OptionsValidationException refused)
        {
            logging.Flush();
            Console.Error.WriteLine("Coffer did not start: the configuration has to be fixed first.");
            foreach (var problem in refused.Failures)
            {
                Console.Error.WriteLine("  " + problem);
            }

            return (default!, 1);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            logging.Flush();
            Console.Error.WriteLine("Coffer stopped before it finished starting.");
            return (default!, 0);
        }
    }
}
