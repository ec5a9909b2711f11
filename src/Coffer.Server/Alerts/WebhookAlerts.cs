using Coffer.Server.Hosting;
using Coffer.Server.Seal;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Alerts;

/// <summary>
/// The node's webhook alerts: the <see cref="AlertDispatcher"/> (audit records → outbox) and the
/// <see cref="WebhookDeliverer"/> (outbox → receivers), each in its own loop off the request path, and
/// only on the cluster's leader (docs/cluster.md).
/// </summary>
internal sealed class WebhookAlerts : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly WebhookDeliverer _deliverer;
    private readonly Task _dispatching;
    private readonly Task _delivering;

    private WebhookAlerts(AlertDispatcher dispatcher, WebhookDeliverer deliverer, Cluster.Leadership leadership)
    {
        Dispatcher = dispatcher;
        _deliverer = deliverer;
        _dispatching = Task.Run(() => leadership.RunWhileLeaderAsync(dispatcher.RunAsync, _stop.Token));
        _delivering = Task.Run(() => leadership.RunWhileLeaderAsync(ct => deliverer.RunAsync(_wake, ct), _stop.Token));
    }

    public AlertDispatcher Dispatcher { get; }

    public static async Task<WebhookAlerts> StartAsync(AlertOptions options, SealManager seal, Cluster.Leadership leadership, TimeProvider time, ILoggerFactory loggers, CancellationToken ct = default)
    {
        WebhookAlerts? alerts = null;
        var dispatcher = await AlertDispatcher.CreateAsync(seal.Storage, options, time, loggers.CreateLogger<AlertDispatcher>(), () => alerts?.Wake(), ct);
        alerts = new WebhookAlerts(dispatcher, new WebhookDeliverer(seal, options, time, loggers.CreateLogger<WebhookDeliverer>()), leadership);
        return alerts;
    }

    /// <summary>Tells an idle deliverer that deliveries were enqueued.</summary>
    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken; one wake-up serves every delivery enqueued meanwhile.
        }
    }

    /// <summary>Stops both loops; an attempt in flight is abandoned and, still pending, made again later.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_dispatching, _delivering);
        _deliverer.Dispose();
        Dispatcher.Dispose();
        _stop.Dispose();
        _wake.Dispose();
    }
}
