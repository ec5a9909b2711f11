using System.Diagnostics;
using System.Security.Cryptography;
using Coffer.Audit;
using Coffer.KeyStores;
using Coffer.Server.Audit;
using Coffer.Server.Hosting;
using Coffer.Server.Seal;
using Coffer.Server.Xks;
using Coffer.Storage;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Cluster;

/// <summary>
/// This node's place in the cluster (docs/cluster.md): its registration under its node id, a heartbeat
/// with its health every <see cref="ClusterOptions.HeartbeatMilliseconds"/>, its bid for the leader lease,
/// and the fleet as last read (<see cref="View"/>, for XKS health and status without a database read).
/// </summary>
/// <remarks>
/// Runs on real time, never the server's <see cref="TimeProvider"/>: the lease is on the database's
/// clock, and a node's deadline to stop leading is on its own monotonic clock. Only an unsealed node
/// competes for the lease, and a leader that is sealed gives it up: scheduled work needs the master key,
/// and a sealed leader would hold it back on every node.
/// </remarks>
internal sealed partial class ClusterMembership : IAsyncDisposable
{
    /// <summary>How often a starting node looks again at a fresh heartbeat under its own node id.</summary>
    private static readonly TimeSpan HolderPoll = TimeSpan.FromMilliseconds(250);

    private readonly ICofferStorage _storage;
    private readonly ClusterOptions _options;
    private readonly string _nodeId;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private Func<ClusterNodeReport> _report;
    private AuditLog? _audit;
    private long _renewedAt;
    private bool _announcedLeader;
    private int _disposed;
    private int _failures;
    private volatile ClusterView _view;

    private ClusterMembership(ICofferStorage storage, CofferOptions options, string instanceId, ClusterNodeReport joined, ILogger logger)
    {
        _storage = storage;
        _options = options.Cluster;
        _nodeId = options.NodeId;
        _logger = logger;
        InstanceId = instanceId;
        _report = () => joined;
        _view = ClusterView.Alone(joined, _options.Liveness);
    }

    /// <summary>Random per process start: tells this process from an earlier or a second one with the same node id.</summary>
    public string InstanceId { get; }

    /// <summary>This process, as the runner of the approved requests it runs.</summary>
    public Coffer.Approvals.ApprovalRunner Runner => new(_nodeId, InstanceId);

    public Leadership Leadership { get; } = new();

    /// <summary>The fleet as of the last heartbeat round (this node included, whatever the database said).</summary>
    public ClusterView View => _view;

    /// <summary>
    /// Registers the node, refusing to start when a live process already runs under its node id: a row
    /// for that id whose heartbeat moves on while this node waits for it to lapse.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another live node has this node id.</exception>
    public static async Task<ClusterMembership> JoinAsync(ICofferStorage storage, CofferOptions options, ILogger logger, CancellationToken ct)
    {
        var instance = RandomNumberGenerator.GetHexString(16, lowercase: true);
        // Not listening yet: no addresses, sealed, unavailable, until the first round after start.
        var report = new ClusterNodeReport(options.NodeId, instance, "", "", DeepHealthCheck.Version, true, "UNAVAILABLE", null);
        var holder = await storage.Cluster.JoinAsync(report, options.Cluster.Liveness, ct);
        // A node restarted right after a crash (kill -9, power loss) finds its own last heartbeat still
        // fresh. It waits for that heartbeat to lapse rather than refuse; a heartbeat that moves on
        // meanwhile is a second live process, which is refused.
        var firstBeat = holder?.HeartbeatAt;
        if (holder is not null)
        {
            Log.WaitingForHolder(logger, options.NodeId, holder.HeartbeatAge.TotalSeconds, options.Cluster.Liveness.TotalSeconds);
        }

        while (holder is not null && holder.HeartbeatAt == firstBeat)
        {
            await Task.Delay(HolderPoll, ct);
            holder = await storage.Cluster.JoinAsync(report, options.Cluster.Liveness, ct);
        }

        if (holder is not null)
        {
            throw new InvalidOperationException(
                $"Another Coffer node with NodeId '{options.NodeId}' is running on this database: it last reported "
                + $"{holder.HeartbeatAge.TotalSeconds:0.0} s ago (management {Shown(holder.Report.ManagementUrl)}, version {holder.Report.Version}). "
                + $"Give each node its own NodeId, or stop the other first; a node silent for {options.Cluster.Liveness.TotalSeconds:0.#} s counts as gone.");
        }

        return new ClusterMembership(storage, options, instance, report, logger);
    }

    /// <summary>
    /// Starts the heartbeats and the bid for the lease, once the listeners are up. The first round runs
    /// before this returns, so a node alone on its database leads from the start.
    /// </summary>
    /// <param name="hasHsm">Whether the node has a pkcs11 backend, whose health it reports too.</param>
    public async Task StartAsync(SealManager seal, AuditLog audit, DeepHealthCheck health, Uri xksUrl, Uri managementUrl, bool hasHsm, CancellationToken ct)
    {
        _audit = audit;
        var xks = xksUrl.ToString().TrimEnd('/');
        var management = managementUrl.ToString().TrimEnd('/');
        _report = () => new ClusterNodeReport(_nodeId, InstanceId, xks, management, DeepHealthCheck.Version, seal.IsSealed,
            health.Status(KeyStoreBackends.Software), hasHsm ? health.Status(KeyStoreBackends.Pkcs11) : null);
        await RoundAsync(ct);
        _loop = Task.Run(LoopAsync, CancellationToken.None);
    }

    /// <summary>The fleet read now from the database (for status; XKS health uses <see cref="View"/>).</summary>
    public async Task<ClusterView> ReadViewAsync(CancellationToken ct) =>
        new(await _storage.Cluster.ListNodesAsync(ct), await _storage.Cluster.GetLeaderAsync(ct), _options.Liveness, _view.Self);

    /// <summary>Graceful stop: ends the term (scheduled work stops), gives the lease up so another node
    /// takes it at once, and marks the node stopped. Once: the node stops it first, and again (doing
    /// nothing) when it closes the registration.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync();
        await _loop;
        try
        {
            await StepDownAsync("the node is stopping", resign: Leadership.IsLeader || _announcedLeader, CancellationToken.None);
            await _storage.Cluster.LeaveAsync(_nodeId, InstanceId, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The others see it gone when its heartbeat is stale, and take the lease when it expires.
            Log.LeaveFailed(_logger, e.GetType().Name, e.Message);
        }

        Leadership.Dispose();
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(_options.Heartbeat);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                await RoundAsync(_stop.Token);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>One round: heartbeat, lease, fleet. A failing database is logged once per run of
    /// failures; the term then ends by its own deadline if the lease cannot be renewed.</summary>
    private async Task RoundAsync(CancellationToken ct)
    {
        try
        {
            var report = _report();
            if (!await _storage.Cluster.HeartbeatAsync(report, ct))
            {
                // Taken for gone (silent past the liveness bound) and the id registered again by
                // another process; register again unless that one is live.
                await StepDownAsync("another process registered this node id", resign: true, ct);
                if (await _storage.Cluster.JoinAsync(report, _options.Liveness, ct) is not null)
                {
                    Log.IdTaken(_logger, _nodeId);
                    return;
                }
            }

            await LeadAsync(report.Sealed, ct);
            _view = await ReadViewAsync(ct) with { Self = report };
            if (_failures > 0)
            {
                Log.Recovered(_logger, _failures);
                _failures = 0;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            if (_failures++ == 0)
            {
                Log.RoundFailed(_logger, e.GetType().Name, e.Message);
            }

            await AnnounceStepDownIfEndedAsync(ct);
        }
    }

    private async Task LeadAsync(bool sealedNode, CancellationToken ct)
    {
        await AnnounceStepDownIfEndedAsync(ct);
        if (sealedNode)
        {
            if (Leadership.IsLeader)
            {
                await StepDownAsync("the node is sealed", resign: true, ct);
            }

            return;
        }

        if (Leadership.IsLeader && Stopwatch.GetElapsedTime(_renewedAt) < _options.Renew)
        {
            return;
        }

        var asked = Stopwatch.GetTimestamp();
        if (!await _storage.Cluster.TryLeadAsync(_nodeId, InstanceId, _options.Lease, ct))
        {
            if (Leadership.IsLeader)
            {
                await StepDownAsync("another node holds the lease", resign: false, ct);
            }

            return;
        }

        // The lease runs from the database's "now", which came after `asked`: counted from `asked`, this
        // node's deadline falls before the lease ends, and the margin covers work that is still finishing.
        _renewedAt = asked;
        var validFor = _options.Lease - _options.StepDownMargin - Stopwatch.GetElapsedTime(asked);
        if (validFor <= TimeSpan.Zero)
        {
            return; // the renewal took too long to be of use; the next round tries again
        }

        if (!Leadership.Hold(validFor) || _announcedLeader)
        {
            return;
        }

        try
        {
            // Fail closed: a term nobody can see in the audit log does not begin.
            await _audit!.AppendAsync(LeaderEvent("became the leader"), ct);
            _announcedLeader = true;
            Log.BecameLeader(_logger, _nodeId);
        }
        catch (AuditUnavailableException)
        {
            Leadership.End();
            await _storage.Cluster.ResignAsync(InstanceId, ct);
            throw;
        }
    }

    /// <summary>Records the end of a term that ended by its own deadline (the lease was not renewed in time).</summary>
    private Task AnnounceStepDownIfEndedAsync(CancellationToken ct) =>
        _announcedLeader && !Leadership.IsLeader
            ? StepDownAsync("the lease could not be renewed in time", resign: false, ct)
            : Task.CompletedTask;

    private async Task StepDownAsync(string reason, bool resign, CancellationToken ct)
    {
        Leadership.End();
        if (resign)
        {
            await _storage.Cluster.ResignAsync(InstanceId, ct);
        }

        if (!_announcedLeader)
        {
            return;
        }

        _announcedLeader = false;
        Log.SteppedDown(_logger, _nodeId, reason);
        try
        {
            await _audit!.AppendAsync(LeaderEvent("stepped down: " + reason), ct);
        }
        catch (AuditUnavailableException e)
        {
            // Most often the database itself is away, which is why the term ended; the log has it.
            Log.StepDownNotAudited(_logger, e.Message);
        }
    }

    private static AuditEvent LeaderEvent(string details) => new()
    {
        Action = AuditActions.ClusterLeader,
        ActorKind = AuditActorKinds.System,
        Details = details,
    };

    private static string Shown(string url) => url.Length == 0 ? "not yet listening" : url;

    private static partial class Log
    {
        [LoggerMessage(EventId = 7200, Level = LogLevel.Information, Message = "Node {NodeId} is the cluster leader: scheduled work runs here")]
        public static partial void BecameLeader(ILogger logger, string nodeId);

        [LoggerMessage(EventId = 7201, Level = LogLevel.Warning, Message = "Node {NodeId} stepped down as the cluster leader: {Reason}")]
        public static partial void SteppedDown(ILogger logger, string nodeId, string reason);

        [LoggerMessage(EventId = 7202, Level = LogLevel.Error, Message = "Cluster heartbeat failed ({ExceptionType}: {Reason}); retrying every heartbeat, logged again only after it recovers")]
        public static partial void RoundFailed(ILogger logger, string exceptionType, string reason);

        [LoggerMessage(EventId = 7203, Level = LogLevel.Information, Message = "Cluster heartbeat works again after {Failures} failed round(s)")]
        public static partial void Recovered(ILogger logger, int failures);

        [LoggerMessage(EventId = 7207, Level = LogLevel.Information, Message = "Node id {NodeId} reported {Age:0.0} s ago from another process; waiting up to {Liveness:0.#} s for it to fall silent")]
        public static partial void WaitingForHolder(ILogger logger, string nodeId, double age, double liveness);

        [LoggerMessage(EventId = 7204, Level = LogLevel.Critical, Message = "Another live process registered node id {NodeId} while this one was silent: two processes share one NodeId; stop one")]
        public static partial void IdTaken(ILogger logger, string nodeId);

        [LoggerMessage(EventId = 7205, Level = LogLevel.Warning, Message = "The end of this node's term as leader could not be audited: {Reason}")]
        public static partial void StepDownNotAudited(ILogger logger, string reason);

        [LoggerMessage(EventId = 7206, Level = LogLevel.Warning, Message = "Could not leave the cluster registry at stop ({ExceptionType}: {Reason}); the others will see this node gone when its heartbeat is stale")]
        public static partial void LeaveFailed(ILogger logger, string exceptionType, string reason);
    }
}
