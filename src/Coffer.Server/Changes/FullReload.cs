using Coffer.Changes;
using Coffer.Server.Hosting;
using Coffer.Server.Lifecycle;
using Microsoft.Extensions.Hosting;

namespace Coffer.Server.Changes;

/// <summary>
/// The safety net under <see cref="IChangeFeed"/>: every <see cref="ClusterOptions.FullReloadSeconds"/>
/// of the server's <see cref="TimeProvider"/>, every cache reloads, so a change whose notification never
/// came (another node's, lost in transit) or whose reload failed is in force within one period.
/// </summary>
/// <remarks>
/// Cheap when nothing changed: the key ring reuses the keys it already opened, and the rules and
/// switches are small. Calls in flight keep the snapshots they started with (docs/architecture.md,
/// "The hot path"). Failures are logged by the feed and retried at the next period.
/// </remarks>
internal sealed class FullReload(IChangeFeed changes, CofferOptions options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Cluster.FullReloadSeconds), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken) && await Coalesce.MissedTicks())
            {
                await changes.ReloadAllAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
