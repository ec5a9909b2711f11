using Coffer.Crypto;
using Coffer.Server.Alerts;
using Coffer.Server.Audit;
using Coffer.Server.Audit.Sinks;
using Coffer.Server.Changes;
using Coffer.Server.Changes.Postgres;
using Coffer.Server.Cluster;
using Coffer.Server.KillSwitches;
using Coffer.Server.Metrics;
using Coffer.Server.Policies;
using Coffer.Server.Seal;
using Coffer.Server.Telemetry;
using Coffer.Server.Xks;
using Coffer.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Hosting;

/// <summary>
/// The one place that says what a node is made of and in which order (docs/architecture.md,
/// "Start-up and shutdown"). The node's host starts the parts below in the order they are added and
/// stops them in reverse (<see cref="CofferServer"/> stops it at once when a part fails to start); the
/// two listeners keep their own hosts (<see cref="Listener"/>), built from the parts once those are open.
/// </summary>
internal static partial class CofferNode
{
    public static IHost Build(CofferOptions options, ILoggerFactory loggers, TimeProvider time, bool unaudited)
    {
        // Empty: no configuration files, environment or command line (CofferOptions alone configures
        // Coffer), rooted in Coffer's own directory rather than the working directory, which often
        // holds the database (Listener.NewBuilder says why that matters).
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = AppContext.BaseDirectory });
        var services = builder.Services;
        services.AddSingleton(loggers);
        services.AddSingleton(time);
        // The caller (coffer server, coffer dev, a test) decides when the node stops; the node itself
        // listens for no signals.
        services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        services.AddCofferOptions(options);
        services.AddOtlpExport(options);

        services.AddCryptoBackends();
        services.AddStorage();
        services.AddClusterMembership();
        services.AddAuditSinks();
        services.AddAuditLog(unaudited);
        services.AddChangeFeed(shared: options.Storage.Engine == StorageOptions.Postgres);
        services.AddSeal();
        services.AddKillSwitches();
        services.AddAlerts();
        services.AddAccessRules();
        services.AddCacheSubscriptions();
        services.AddChangeListener();
        services.AddListeners();
        services.AddClusterHeartbeat();
        return builder.Build();
    }

    /// <summary>The PKCS#11 backend when configured, connected first and closed last: the seal and the
    /// key ring use it until they are gone. A token that is down at start does not stop Coffer: its key
    /// stores answer DependencyTimeoutException until it returns (docs/pkcs11.md).</summary>
    private static void AddCryptoBackends(this IServiceCollection services) =>
        services.AddPart<IReadOnlyList<ICryptoBackend>>(
            (node, _) => Task.FromResult(CreateHsmBackends(node.GetRequiredService<CofferOptions>(), node.GetRequiredService<TimeProvider>(), Logger(node))),
            backends =>
            {
                foreach (var backend in backends)
                {
                    backend.Dispose();
                }

                return ValueTask.CompletedTask;
            });

    private static IReadOnlyList<ICryptoBackend> CreateHsmBackends(CofferOptions options, TimeProvider time, ILogger logger)
    {
        if (options.Pkcs11 is null)
        {
            return [];
        }

        var backend = new Coffer.Hsm.Pkcs11CryptoBackend(options.Pkcs11, time);
        try
        {
            backend.Connect();
        }
        catch (CryptoBackendUnavailableException e)
        {
            Log.HsmDownAtStart(logger, e.Message);
        }

        return [backend];
    }

    /// <summary>The database, closed after everything that reads or writes it. OIDC group mappings
    /// name roles, and custom roles live in the database: checked as soon as it is open.</summary>
    private static void AddStorage(this IServiceCollection services)
    {
        services.AddPart<ICofferStorage>(
            async (node, ct) =>
            {
                var options = node.GetRequiredService<CofferOptions>();
                // StorageOptions checks the engine's settings itself (not yet an options validator).
                options.Storage.Validate();
                OwnerOnlyFiles.EnsureDataDirectory(options.DataDirectory, Logger(node));
                return await options.Storage.OpenAsync(options, ct);
            },
            storage =>
            {
                storage.Dispose();
                return ValueTask.CompletedTask;
            });
        services.AddStartStep((node, ct) =>
            node.GetRequiredService<CofferOptions>().Oidc?.RequireRolesAsync(node.Part<ICofferStorage>().Principals, ct) ?? Task.CompletedTask);
    }

    /// <summary>The node's registration under its node id, before anything is written: a second live
    /// process with this node id refuses to start (docs/cluster.md). Left at stop if the heartbeat
    /// never started (<see cref="AddClusterHeartbeat"/> leaves otherwise).</summary>
    private static void AddClusterMembership(this IServiceCollection services) =>
        services.AddPart(
            (node, ct) => ClusterMembership.JoinAsync(node.Part<ICofferStorage>(), node.GetRequiredService<CofferOptions>(),
                node.GetRequiredService<ILoggerFactory>().CreateLogger<ClusterMembership>(), ct),
            membership => membership.DisposeAsync());

    /// <summary>Sinks read the durable chain behind their own cursors: nothing on the request path.
    /// They stop after the audit writer drained (its last records are theirs to send next time) and
    /// before the storage closes: a batch in flight is abandoned, its cursor unmoved (sent again).</summary>
    private static void AddAuditSinks(this IServiceCollection services) =>
        services.AddPart(
            (node, ct) => AuditForwarders.StartAsync(node.GetRequiredService<CofferOptions>(), node.Part<ICofferStorage>(), node.Part<ClusterMembership>().Leadership,
                node.GetRequiredService<TimeProvider>(),
                node.GetRequiredService<ILoggerFactory>(), ct),
            sinks => sinks.DisposeAsync());

    /// <summary>The audit writer stops after the listeners: every record of an answered call is
    /// written, and the writer drains what is left before the storage closes.</summary>
    /// <param name="unaudited">Benchmark only (<see cref="AuditLog.UnauditedEnvironmentVariable"/>): record nothing.</param>
    private static void AddAuditLog(this IServiceCollection services, bool unaudited) =>
        services.AddPart(
            (node, ct) =>
            {
                if (unaudited)
                {
                    var logger = Logger(node);
                    Log.Unaudited(logger, AuditLog.UnauditedEnvironmentVariable);
                }

                return AuditLog.StartAsync(node.Part<ICofferStorage>().Audit, node.GetRequiredService<CofferOptions>().NodeId, node.GetRequiredService<TimeProvider>(),
                    node.GetRequiredService<ILoggerFactory>().CreateLogger<AuditLog>(), enabled: !unaudited, ct);
            },
            audit => audit.DisposeAsync());

    /// <summary>The seam every cache reloads through (docs/architecture.md, "Changes"): closed after the
    /// seal and the kill switches, whose reloads it drives. On a shared PostgreSQL database the change
    /// transport (docs/cluster.md, "Changes between nodes and staleness") opens first: the feed
    /// broadcasts through it, and its connections close after the feed.</summary>
    private static void AddChangeFeed(this IServiceCollection services, bool shared)
    {
        if (shared)
        {
            services.AddPart((node, ct) => PostgresChanges.CreateAsync(node.GetRequiredService<CofferOptions>(), ct), transport => transport.DisposeAsync());
        }

        // A single node publishes every change itself: always current.
        services.AddSingleton(node => ChangeTransport(node)?.Freshness ?? ClusterFreshness.Always);
        services.AddPart(
            (node, _) => Task.FromResult(new ChangeFeed(node.GetRequiredService<CofferOptions>().NodeId, node.GetRequiredService<ILoggerFactory>().CreateLogger<ChangeFeed>(),
                ChangeTransport(node)?.Broadcast)),
            changes =>
            {
                changes.Dispose();
                return ValueTask.CompletedTask;
            });
    }

    /// <summary>On a shared database, the other nodes' changes: received once every cache is subscribed
    /// and before any listener opens (the node is not current, so refuses key operations, until the
    /// listener has reloaded them all); stopped after both listeners closed, before the caches go.</summary>
    private static void AddChangeListener(this IServiceCollection services) =>
        services.AddStartStep(
            (node, ct) => ChangeTransport(node)?.StartListeningAsync(node.Part<ChangeFeed>(), node.GetRequiredService<ILoggerFactory>(), ct) ?? Task.CompletedTask,
            async node =>
            {
                if (ChangeTransport(node) is { } transport)
                {
                    await transport.StopListeningAsync();
                }
            });

    /// <summary>The change transport, on a shared database only.</summary>
    private static PostgresChanges? ChangeTransport(IServiceProvider node) => node.GetService<NodePart<PostgresChanges>>()?.Value;

    /// <summary>The seal holds the master key and the key ring; sealing it at stop zeroes them, after the
    /// listeners and alerts are gone and before the audit writer drains. The dev and pkcs11 seals unseal
    /// here, before any listener opens.</summary>
    private static void AddSeal(this IServiceCollection services)
    {
        services.AddPart(
            (node, _) => Task.FromResult(new SealManager(node.Part<ICofferStorage>(), node.Part<ChangeFeed>(), node.GetRequiredService<TimeProvider>(),
                node.GetRequiredService<ILoggerFactory>().CreateLogger<SealManager>(), node.Part<IReadOnlyList<ICryptoBackend>>(), node.Part<AuditLog>())),
            seal =>
            {
                seal.Dispose();
                return ValueTask.CompletedTask;
            });
        services.AddStartStep(async (node, ct) =>
        {
            var seal = node.Part<SealManager>();
            await seal.LoadSealedViewAsync(ct);
            await UnsealAtStart.RunAsync(node.GetRequiredService<CofferOptions>(), seal, Logger(node), ct);
        });
    }

    /// <summary>Engaged kill switches hold across restarts: in force before the first XKS call.</summary>
    private static void AddKillSwitches(this IServiceCollection services) =>
        services.AddPart(
            async (node, ct) =>
            {
                var board = new KillSwitchBoard(node.Part<ICofferStorage>(), node.Part<ChangeFeed>(), node.GetRequiredService<TimeProvider>());
                await board.LoadAsync(ct);
                return board;
            },
            _ => ValueTask.CompletedTask);

    /// <summary>Alerts read the durable chain behind their own cursor and outbox: nothing on the request
    /// path. Stopped before the seal: a delivery in flight is abandoned while it can still open its
    /// secret, and stays pending.</summary>
    private static void AddAlerts(this IServiceCollection services) =>
        services.AddPart(
            (node, ct) => WebhookAlerts.StartAsync(node.GetRequiredService<CofferOptions>().Alerts, node.Part<SealManager>(), node.Part<ClusterMembership>().Leadership,
                node.GetRequiredService<TimeProvider>(),
                node.GetRequiredService<ILoggerFactory>(), ct),
            alerts => alerts.DisposeAsync());

    /// <summary>The compiled access rules both listeners decide with, and the metrics both report.</summary>
    private static void AddAccessRules(this IServiceCollection services)
    {
        services.AddPart(
            (node, ct) => AccessRules.LoadAsync(node.Part<ICofferStorage>(), node.GetRequiredService<ILoggerFactory>().CreateLogger<AccessRules>(), ct),
            rules =>
            {
                rules.Dispose();
                return ValueTask.CompletedTask;
            });
        // The node's, not the XKS listener's: metrics read how much of each key's budget is reserved.
        services.AddSingleton(node => new EncryptionBudgets(node.Part<ICofferStorage>(), node.Part<AuditLog>(), node.GetRequiredService<CofferOptions>().Xks,
            node.GetRequiredService<ILoggerFactory>().CreateLogger<EncryptionBudgets>()));
        services.AddSingleton(node => new NodeReadings(node.Part<SealManager>(), node.Part<ICofferStorage>(), node.Part<AuditLog>(), node.Part<AuditForwarders>(),
            node.Part<KillSwitchBoard>(), node.Part<ClusterMembership>(), node.GetRequiredService<EncryptionBudgets>(), node.GetRequiredService<TimeProvider>()));
        services.AddSingleton(node => new CofferMetrics(node.GetRequiredService<NodeReadings>(), node.GetService<CofferMeter>()?.XksDuration));
    }

    /// <summary>Every cache reloads when a change is published, before any listener can make one.</summary>
    private static void AddCacheSubscriptions(this IServiceCollection services) =>
        services.AddStartStep((node, _) =>
        {
            CacheSubscriptions.Subscribe(node.Part<ChangeFeed>(), node.Part<SealManager>(), node.Part<KillSwitchBoard>(), node.Part<AccessRules>());
            return Task.CompletedTask;
        });

    /// <summary>Management first, XKS last: AWS KMS reaches a node only once all of it is up, and at stop
    /// it is cut off first. The XKS listener's services are disposed when it stops, which writes the
    /// last interval's anonymous-traffic counts while the audit writer still runs.</summary>
    private static void AddListeners(this IServiceCollection services)
    {
        services.AddPart((node, ct) => Listener.StartAsync(new AdminListener(AdminListener.Build(node)), ct), admin => admin.DisposeAsync());
        services.AddPart((node, ct) => Listener.StartAsync(new XksListener(XksListener.Build(node)), ct), xks => xks.DisposeAsync());
    }

    /// <summary>Heartbeats and the bid for the leader lease, once the listeners are up (the registry
    /// names their addresses); the first round runs here, so a node alone on its database leads from the
    /// start. Stopped first: the term ends (scheduled work stops), the lease is given up so another node
    /// takes it at once, and the node is marked stopped, while the audit writer can still record it.</summary>
    private static void AddClusterHeartbeat(this IServiceCollection services) =>
        services.AddStartStep(
            (node, ct) =>
            {
                var xks = node.Part<XksListener>();
                return node.Part<ClusterMembership>().StartAsync(node.Part<SealManager>(), node.Part<AuditLog>(), xks.App.Services.GetRequiredService<Xks.DeepHealthCheck>(),
                    xks.Url, node.Part<AdminListener>().Url, node.Part<IReadOnlyList<ICryptoBackend>>().Count > 0, ct);
            },
            node => node.Part<ClusterMembership>().DisposeAsync());

    private static ILogger Logger(IServiceProvider node) => node.GetRequiredService<ILoggerFactory>().CreateLogger<CofferServer>();

    private static partial class Log
    {
        [LoggerMessage(EventId = 1103, Level = LogLevel.Error, Message = "The PKCS#11 token is unreachable at start ({Reason}); pkcs11 key stores answer DependencyTimeoutException until it returns")]
        public static partial void HsmDownAtStart(ILogger logger, string reason);

        [LoggerMessage(EventId = 1105, Level = LogLevel.Critical, Message = "AUDIT LOG OFF: {Variable}=1 is set, so nothing is recorded. This is for benchmarks only; never run real keys like this.")]
        public static partial void Unaudited(ILogger logger, string variable);
    }
}
