using Coffer.Server.Hosting;
using Coffer.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Metrics;

/// <summary>Writes this node's XKS calls by outcome to the database every minute, and once more at stop
/// (<see cref="XksTraffic"/>). A failed write is logged and its calls go with the next one.</summary>
internal sealed partial class XksTrafficWriter(CofferMetrics metrics, ICofferStorage storage, CofferOptions options, TimeProvider time, ILogger<XksTrafficWriter> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                // Off the timer's thread: a clock that runs its timers inline (a test's fake clock)
                // must not wait here for a database write.
                await Task.Yield();
                await WriteAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await WriteAsync(CancellationToken.None);
    }

    private async Task WriteAsync(CancellationToken ct)
    {
        try
        {
            await metrics.Calls.Traffic.WriteAsync(storage.Traffic, options.NodeId, time.GetUtcNow(), ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.WriteFailed(logger, e.GetType().Name, e.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7401, Level = LogLevel.Warning, Message = "The XKS call counts could not be written ({Type}: {Message}); they go with the next write")]
        public static partial void WriteFailed(ILogger logger, string type, string message);
    }
}
