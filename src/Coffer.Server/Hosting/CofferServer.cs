using Coffer.Server.Audit;
using Coffer.Server.Changes;
using Coffer.Server.Cluster;
using Coffer.Server.Lifecycle;
using Coffer.Server.Seal;
using Coffer.Server.Xks.Anonymous;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Coffer.Server.Hosting;

/// <summary>
/// One Coffer node: the storage, the seal and two Kestrel listeners — XKS (only the XKS routes and
/// <c>GET /ping</c>) and management (<c>/api/v1</c>, OpenAPI, <c>/healthz</c>, <c>/readyz</c>) —
/// sharing one set of parts (docs/design.md, "Shape"). What the node is made of, and the order its
/// parts start and stop in, is <see cref="CofferNode"/>.
/// </summary>
public sealed class CofferServer : IAsyncDisposable
{
    private readonly IHost _node;

    private CofferServer(IHost node) => _node = node;

    internal SealManager Seal => _node.Services.Part<SealManager>();

    internal AuditLog Audit => _node.Services.Part<AuditLog>();

    /// <summary>The unauthenticated XKS requests counted since the last audit record of them (tests flush it).</summary>
    internal AnonymousFailures AnonymousFailures => Xks.AnonymousFailures;

    /// <summary>The sweeper that destroys key material once its waiting period is over.</summary>
    internal DestructionSweeper Destruction => Admin.App.Services.GetRequiredService<DestructionSweeper>();

    /// <summary>The lifecycle scheduler (rotation policies, activation and expiry).</summary>
    internal RotationScheduler Scheduler => Admin.App.Services.GetRequiredService<RotationScheduler>();

    /// <summary>Scheduled audit retention (Audit.Retention).</summary>
    internal Audit.Retention.AuditRetention AuditRetention => Admin.App.Services.GetRequiredService<Audit.Retention.AuditRetention>();

    /// <summary>The seam every cache of this node reloads through (tests deliver other nodes' changes to it).</summary>
    internal Coffer.Changes.IChangeFeed Changes => _node.Services.Part<ChangeFeed>();

    /// <summary>Whether this node leads the cluster (docs/cluster.md).</summary>
    internal Leadership Leadership => _node.Services.Part<ClusterMembership>().Leadership;

    internal Approvals.ApprovalRuns ApprovalRuns => Admin.App.Services.GetRequiredService<Approvals.ApprovalRuns>();

    internal Approvals.ApprovalExecutor ApprovalExecutor => Admin.App.Services.GetRequiredService<Approvals.ApprovalExecutor>();

    /// <summary>Scheme, host and port of the XKS listener, e.g. <c>https://127.0.0.1:8443</c>.</summary>
    public Uri XksUrl => Xks.Url;

    /// <summary>Scheme, host and port of the management listener.</summary>
    public Uri AdminUrl => Admin.Url;

    public bool IsSealed => Seal.IsSealed;

    private XksListener Xks => _node.Services.Part<XksListener>();

    private AdminListener Admin => _node.Services.Part<AdminListener>();

    /// <summary>Starts a node. A configuration that cannot work fails with
    /// <see cref="OptionsValidationException"/>, naming every problem,
    /// before anything is opened; any other failure closes what had started, in reverse. So does
    /// <paramref name="ct"/> canceled while the node starts (the operator stopped it): that ends in
    /// <see cref="OperationCanceledException"/>, logged as nothing worse than the stop it is.</summary>
    public static Task<CofferServer> StartAsync(CofferOptions options, ILoggerFactory loggers, TimeProvider? time = null, CancellationToken ct = default) =>
        StartAsync(options, loggers, time, unaudited: false, ct);

    /// <param name="unaudited">Benchmark only: record nothing. Only <c>coffer dev</c> passes true, and
    /// only when <see cref="AuditLog.UnauditedEnvironmentVariable"/> is 1; never a configuration option.</param>
    internal static async Task<CofferServer> StartAsync(CofferOptions options, ILoggerFactory loggers, TimeProvider? time, bool unaudited, CancellationToken ct = default)
    {
        var node = CofferNode.Build(options, new CanceledStartLoggers(loggers, ct), time ?? TimeProvider.System, unaudited);
        try
        {
            // The host would log a refused configuration as a failed start, stack trace and all: checked
            // here first, the refusal reaches the caller alone (ValidateOnStart stays the host's own guard).
            _ = node.Services.GetRequiredService<IOptions<CofferOptions>>().Value;
            await node.StartAsync(ct);
        }
        catch
        {
            // Stopping the host closes, in reverse, every part that had opened; one never opened has
            // nothing to close.
            await new CofferServer(node).DisposeAsync();
            throw;
        }

        return new CofferServer(node);
    }

    /// <summary>Stops the node: its parts close in the reverse of their start (<see cref="CofferNode"/>).</summary>
    public Task StopAsync(CancellationToken ct = default) => _node.StopAsync(ct);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            if (_node is IAsyncDisposable node)
            {
                await node.DisposeAsync();
            }
            else
            {
                _node.Dispose();
            }
        }
    }
}
