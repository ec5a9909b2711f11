using Coffer.Server.Audit;
using Coffer.Server.Audit.Sinks;
using Coffer.Server.Cluster;
using Coffer.Server.KillSwitches;
using Coffer.Server.Seal;
using Coffer.Server.Xks;
using Coffer.Storage;

namespace Coffer.Server.Metrics;

/// <summary>
/// The node's state that metrics report when they are read (a Prometheus scrape, an OTLP export), not
/// as it changes: one place reads it for both.
/// </summary>
/// <remarks>
/// The audit head and the sinks' cursors are the cluster's, read from the database: every node appends
/// to the one chain and only the leader moves the cursors (docs/cluster.md), so this node's own last
/// record and its own view of a cursor may be far behind. Every node therefore reports the same head and
/// backlog. The cluster's size comes from the last heartbeat round and the keys from the key ring in
/// memory, without a read.
/// </remarks>
internal sealed class NodeReadings(
    SealManager seal,
    ICofferStorage storage,
    AuditLog audit,
    AuditForwarders sinks,
    KillSwitchBoard killSwitches,
    ClusterMembership cluster,
    EncryptionBudgets budgets,
    TimeProvider time)
{
    public async Task<NodeReading> ReadAsync(CancellationToken ct)
    {
        var head = (await storage.Audit.GetHeadAsync(ct)).Sequence;
        var backlogs = new List<(string Sink, long Backlog)>();
        foreach (var sink in sinks.Statuses)
        {
            backlogs.Add((sink.Name, Math.Max(0, head - await AuditForwarder.LoadCursorAsync(storage, sink.Name, ct))));
        }

        var (soonestExpiry, largestBudgetShare) = ReadKeys();
        return new NodeReading(head, backlogs, audit.BatchTotals, killSwitches.Current.Engaged.Count, seal.IsSealed,
            1 + cluster.View.LiveOthers.Count(), cluster.Leadership.IsLeader, soonestExpiry, largestBudgetShare);
    }

    /// <summary>Over the versions that encrypt now, of enabled keys: when the first of them expires
    /// (null when none has an expiry) and the largest share of its encryptions one has reserved.
    /// A walk over the key ring in memory, at each read.</summary>
    private (DateTimeOffset? SoonestExpiry, double LargestBudgetShare) ReadKeys()
    {
        var now = time.GetUtcNow();
        DateTimeOffset? soonest = null;
        var largest = 0.0;
        using var lease = seal.LeaseKeyRing();
        foreach (var store in lease.Ring.KeyStores)
        {
            foreach (var key in store.Keys.Values)
            {
                if (!key.Key.Enabled || key.Key.DestroysAt is not null || key.EncryptingVersionAt(now) is not { } version)
                {
                    continue;
                }

                if (key.Lifecycles[version].DeactivatesAt is { } expires && (soonest is null || expires < soonest))
                {
                    soonest = expires;
                }

                largest = Math.Max(largest, budgets.ShareReserved(key.Key.Id, version));
            }
        }

        return (soonest, largest);
    }
}

/// <summary>One read of <see cref="NodeReadings"/>.</summary>
/// <param name="SoonestKeyExpiry">When the first encrypting version of an enabled key expires; null when none has an expiry.</param>
/// <param name="LargestBudgetShare">The largest share (0..1) of <c>Xks.MaxEncryptionsPerKeyVersion</c> that an encrypting
/// version has reserved, as this node last learnt it from its own reservations.</param>
internal sealed record NodeReading(
    long AuditHead,
    IReadOnlyList<(string Sink, long Backlog)> SinkBacklogs,
    (long Batches, long Records, TimeSpan CommitTime, TimeSpan LockWait) AuditBatches,
    int KillSwitchesEngaged,
    bool Sealed,
    int ClusterNodes,
    bool Leader,
    DateTimeOffset? SoonestKeyExpiry,
    double LargestBudgetShare);
