using Coffer.Changes;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Changes;

/// <summary>
/// The node's <see cref="IChangeFeed"/>: a publish reloads the local subscribers of its topic one
/// after another and then hands the change, tagged with <see cref="NodeId"/>, to the broadcast (none on
/// a single node). Each subscriber's reloads are serialised by its own gate, so one that starts later
/// (and so reads later) always finishes last.
/// </summary>
internal sealed partial class ChangeFeed(string nodeId, ILogger<ChangeFeed> logger, IChangeBroadcast? broadcast = null) : IChangeFeed, IDisposable
{
    private readonly Lock _subscribing = new();
    private Subscription[] _subscriptions = [];

    public string NodeId => nodeId;

    public void Subscribe(string name, Func<CancellationToken, Task> reload, params ChangeTopic[] topics)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(reload);
        if (topics is not { Length: > 0 } || !topics.All(Enum.IsDefined))
        {
            throw new ArgumentException("A subscription names one or more known topics.", nameof(topics));
        }

        lock (_subscribing)
        {
            _subscriptions = [.. _subscriptions, new Subscription(name, reload, topics)];
        }
    }

    public async Task PublishAsync(ChangeTopic topic)
    {
        if (!Enum.IsDefined(topic))
        {
            throw new ArgumentOutOfRangeException(nameof(topic), topic, "Not a change topic.");
        }

        // The caller's cancellation must not leave a stored change unapplied: nothing here takes it.
        var applied = await ReloadAsync(s => s.Covers(topic), CancellationToken.None);
        if (broadcast is not null)
        {
            try
            {
                await broadcast.SendAsync(new ChangeNotice(topic, nodeId), CancellationToken.None);
            }
            catch (Exception e)
            {
                // The other nodes catch up at their next full reload.
                Log.BroadcastFailed(logger, topic, e);
            }
        }

        if (!applied)
        {
            throw new ChangeNotInForceException(topic);
        }
    }

    public async Task<bool> ReceiveAsync(ChangeNotice notice, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(notice);
        if (string.Equals(notice.NodeId, nodeId, StringComparison.Ordinal))
        {
            return true; // applied when this node published it
        }

        if (Enum.IsDefined(notice.Topic))
        {
            return await ReloadAsync(s => s.Covers(notice.Topic), ct);
        }

        // A topic from a newer node that this one does not know: whatever it changed, reload it all.
        Log.UnknownTopic(logger, (int)notice.Topic);
        return await ReloadAllAsync(ct);
    }

    public Task<bool> ReloadAllAsync(CancellationToken ct = default) => ReloadAsync(_ => true, ct);

    /// <summary>Reloads the matching subscribers; false when one of them failed (already logged).</summary>
    private async Task<bool> ReloadAsync(Func<Subscription, bool> matches, CancellationToken ct)
    {
        var all = true;
        foreach (var subscription in Volatile.Read(ref _subscriptions))
        {
            if (matches(subscription))
            {
                all &= await subscription.ReloadAsync(logger, ct);
            }
        }

        return all;
    }

    public void Dispose()
    {
        foreach (var subscription in Volatile.Read(ref _subscriptions))
        {
            subscription.Dispose();
        }
    }

    private sealed class Subscription(string name, Func<CancellationToken, Task> reload, ChangeTopic[] topics) : IDisposable
    {
        private readonly SemaphoreSlim _gate = new(1, 1);

        public bool Covers(ChangeTopic topic) => topics.Contains(topic);

        public async Task<bool> ReloadAsync(ILogger logger, CancellationToken ct)
        {
            await _gate.WaitAsync(ct);
            try
            {
                await reload(ct);
                return true;
            }
            catch (Exception e) when (!(e is OperationCanceledException && ct.IsCancellationRequested))
            {
                Log.ReloadFailed(logger, name, e);
                return false;
            }
            finally
            {
                _gate.Release();
            }
        }

        public void Dispose() => _gate.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1400, Level = LogLevel.Error, Message = "The {Cache} could not reload after a change; it is retried at the next full reload")]
        public static partial void ReloadFailed(ILogger logger, string cache, Exception exception);

        [LoggerMessage(EventId = 1401, Level = LogLevel.Warning, Message = "A change to {Topic} could not be broadcast to the other nodes; they take it at their next full reload")]
        public static partial void BroadcastFailed(ILogger logger, ChangeTopic topic, Exception exception);

        [LoggerMessage(EventId = 1402, Level = LogLevel.Warning, Message = "Another node announced a change of unknown topic {Topic}; every cache reloads")]
        public static partial void UnknownTopic(ILogger logger, int topic);
    }
}
