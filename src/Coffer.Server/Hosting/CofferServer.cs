using System.Net;
using Coffer.Crypto;
using Coffer.Server.Alerts;
using Coffer.Server.Audit;
using Coffer.Server.Audit.Sinks;
using Coffer.Server.Changes;
using Coffer.Server.Changes.Postgres;
using Coffer.Server.Cluster;
using Coffer.Server.KillSwitches;
using Coffer.Server.Lifecycle;
using Coffer.Server.Management;
using Coffer.Server.Management.Oidc;
using Coffer.Server.Metrics;
using Coffer.Server.Policies;
using Coffer.Server.Seal;
using Coffer.Server.Services;
using Coffer.Server.Xks;
using Coffer.Server.Xks.Anonymous;
using Coffer.Server.Xks.SigV4;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Coffer.Server.Hosting;

/// <summary>
/// One Coffer node: the storage, the seal and two Kestrel listeners — XKS (only the XKS routes and
/// <c>GET /ping</c>) and management (<c>/api/v1</c>, OpenAPI, <c>/healthz</c>, <c>/readyz</c>) —
/// sharing one set of singletons (docs/design.md, "Shape").
/// </summary>
public sealed partial class CofferServer : IAsyncDisposable
{
    private readonly WebApplication _xks;
    private readonly WebApplication _admin;
    private readonly ILoggerFactory _loggers;

    private readonly IReadOnlyList<ICryptoBackend> _hsmBackends;

    private readonly AuditForwarders _sinks;

    private readonly WebhookAlerts _alerts;

    private readonly ChangeFeed _changes;

    private readonly ClusterMembership _cluster;

    private readonly PostgresChanges? _clusterChanges;

    private CofferServer(WebApplication xks, WebApplication admin, SealManager seal, AuditLog audit, ILoggerFactory loggers, IReadOnlyList<ICryptoBackend> hsmBackends, AuditForwarders sinks, WebhookAlerts alerts, ChangeFeed changes, ClusterMembership cluster, PostgresChanges? clusterChanges)
    {
        _changes = changes;
        _cluster = cluster;
        _clusterChanges = clusterChanges;
        _sinks = sinks;
        _alerts = alerts;
        _xks = xks;
        _admin = admin;
        Seal = seal;
        Audit = audit;
        _loggers = loggers;
        _hsmBackends = hsmBackends;
    }

    internal SealManager Seal { get; }

    internal AuditLog Audit { get; }

    /// <summary>The unauthenticated XKS requests counted since the last audit record of them (tests flush it).</summary>
    internal AnonymousFailures AnonymousFailures => _xks.Services.GetRequiredService<AnonymousFailures>();

    /// <summary>The sweeper that destroys key material once its waiting period is over.</summary>
    internal Lifecycle.DestructionSweeper Destruction => _admin.Services.GetRequiredService<Lifecycle.DestructionSweeper>();

    /// <summary>The lifecycle scheduler (rotation policies, activation and expiry).</summary>
    internal RotationScheduler Scheduler => _admin.Services.GetRequiredService<RotationScheduler>();

    /// <summary>The seam every cache of this node reloads through (tests deliver other nodes' changes to it).</summary>
    internal Coffer.Changes.IChangeFeed Changes => _changes;

    /// <summary>Whether this node leads the cluster (docs/cluster.md).</summary>
    internal Leadership Leadership => _cluster.Leadership;

    internal Approvals.ApprovalRuns ApprovalRuns => _admin.Services.GetRequiredService<Approvals.ApprovalRuns>();

    internal Approvals.ApprovalExecutor ApprovalExecutor => _admin.Services.GetRequiredService<Approvals.ApprovalExecutor>();

    /// <summary>Scheme, host and port of the XKS listener, e.g. <c>https://127.0.0.1:8443</c>.</summary>
    public Uri XksUrl => BoundAddress(_xks);

    /// <summary>Scheme, host and port of the management listener.</summary>
    public Uri AdminUrl => BoundAddress(_admin);

    public bool IsSealed => Seal.IsSealed;

    public static Task<CofferServer> StartAsync(CofferOptions options, ILoggerFactory loggers, TimeProvider? time = null, CancellationToken ct = default) =>
        StartAsync(options, loggers, time, unaudited: false, ct);

    /// <param name="unaudited">Benchmark only: record nothing. Only <c>coffer dev</c> passes true, and
    /// only when <see cref="AuditLog.UnauditedEnvironmentVariable"/> is 1; never a configuration option.</param>
    internal static async Task<CofferServer> StartAsync(CofferOptions options, ILoggerFactory loggers, TimeProvider? time, bool unaudited, CancellationToken ct = default)
    {
        time ??= TimeProvider.System;
        Validate(options);
        var logger = loggers.CreateLogger<CofferServer>();
        OwnerOnlyFiles.EnsureDataDirectory(options.DataDirectory, logger);
        var storage = await options.Storage.OpenAsync(options, ct);
        ClusterMembership cluster;
        try
        {
            if (options.Oidc is not null)
            {
                await options.Oidc.RequireRolesAsync(storage.Principals, ct);
            }

            // Before anything is written: a second live process with this node id refuses to start.
            cluster = await ClusterMembership.JoinAsync(storage, options, loggers.CreateLogger<ClusterMembership>(), ct);
        }
        catch
        {
            storage.Dispose();
            throw;
        }

        if (unaudited)
        {
            Log.Unaudited(logger, AuditLog.UnauditedEnvironmentVariable);
        }

        AuditLog audit;
        try
        {
            audit = await AuditLog.StartAsync(storage.Audit, options.NodeId, time, loggers.CreateLogger<AuditLog>(), enabled: !unaudited, ct);
        }
        catch
        {
            await cluster.DisposeAsync();
            storage.Dispose();
            throw;
        }

        // Sinks read the durable chain behind their own cursors: nothing on the request path.
        AuditForwarders sinks;
        try
        {
            sinks = await AuditForwarders.StartAsync(options, storage, cluster.Leadership, time, loggers, ct);
        }
        catch
        {
            await cluster.DisposeAsync();
            await audit.DisposeAsync();
            storage.Dispose();
            throw;
        }

        var hsmBackends = CreateHsmBackends(options, time, logger);
        // Other nodes' changes come over PostgreSQL; a node that cannot confirm it has them fails closed.
        var clusterChanges = await PostgresChanges.CreateAsync(options, ct);
        var freshness = clusterChanges?.Freshness ?? ClusterFreshness.Always;
        var changes = new ChangeFeed(options.NodeId, loggers.CreateLogger<ChangeFeed>(), clusterChanges?.Broadcast);
        var seal = new SealManager(storage, changes, time, loggers.CreateLogger<SealManager>(), hsmBackends, audit);
        WebhookAlerts? alerts = null;
        try
        {
            await seal.LoadSealedViewAsync(ct);
            await AutoUnsealAsync(options, seal, logger, ct);

            // Engaged kill switches hold across restarts: in force before the first XKS call.
            var killSwitches = new KillSwitchBoard(storage, changes, time);
            await killSwitches.LoadAsync(ct);

            // Alerts read the durable chain behind their own cursor and outbox: nothing on the request path.
            alerts = await WebhookAlerts.StartAsync(options.Alerts, seal, cluster.Leadership, time, loggers, ct);
            var node = new NodeServices(options, seal, audit, storage, time, loggers, killSwitches, sinks,
                new CofferMetrics(seal, storage, audit, sinks, killSwitches, cluster), changes, cluster);
            var rules = await AccessRules.LoadAsync(storage, loggers.CreateLogger<AccessRules>(), ct);
            CacheSubscriptions.Subscribe(changes, seal, killSwitches, rules);
            if (clusterChanges is not null)
            {
                await clusterChanges.StartAsync(changes, loggers, ct);
            }

            var xks = BuildXks(node, rules, freshness);
            var admin = BuildAdmin(node, alerts, rules);
            await xks.StartAsync(ct);
            await admin.StartAsync(ct);
            await cluster.StartAsync(seal, audit, xks.Services.GetRequiredService<DeepHealthCheck>(), BoundAddress(xks), BoundAddress(admin), hsmBackends.Count > 0, ct);
            return new CofferServer(xks, admin, seal, audit, loggers, hsmBackends, sinks, alerts, changes, cluster, clusterChanges);
        }
        catch
        {
            await cluster.DisposeAsync();
            if (alerts is not null)
            {
                await alerts.DisposeAsync();
            }

            if (clusterChanges is not null)
            {
                await clusterChanges.DisposeAsync();
            }

            await sinks.DisposeAsync();
            seal.Dispose();
            changes.Dispose();
            await audit.DisposeAsync();
            storage.Dispose();
            DisposeAll(hsmBackends);
            throw;
        }
    }

    /// <summary>The PKCS#11 backend when configured. A token that is down at start does not stop
    /// Coffer: its key stores answer DependencyTimeoutException until it returns (docs/pkcs11.md).</summary>
    private static IReadOnlyList<ICryptoBackend> CreateHsmBackends(CofferOptions options, TimeProvider time, ILogger logger)
    {
        if (options.Pkcs11 is null)
        {
            return [];
        }

        options.Pkcs11.Validate();
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

    private static void DisposeAll(IReadOnlyList<ICryptoBackend> backends)
    {
        foreach (var backend in backends)
        {
            backend.Dispose();
        }
    }

    private static void Validate(CofferOptions options)
    {
        if (options.Seal is not (SealKinds.Shamir or SealKinds.Pkcs11 or SealKinds.Dev))
        {
            throw new InvalidOperationException($"Seal must be '{SealKinds.Shamir}', '{SealKinds.Pkcs11}' or '{SealKinds.Dev}', not '{options.Seal}'.");
        }

        if (options.Seal == SealKinds.Pkcs11 && options.Pkcs11 is null)
        {
            throw new InvalidOperationException("The pkcs11 seal needs the Pkcs11 section (module, token, PIN source).");
        }

        if (options.Xks.MaxPlaintextBytes < 4300 || options.Xks.MaxAadBytes is < 8192 or > 65535)
        {
            throw new InvalidOperationException("Xks.MaxPlaintextBytes must be at least 4300 and Xks.MaxAadBytes 8192..65535 (XKS spec minimums; 16-bit AAD length).");
        }

        if (options.Xks.MaxEncryptionsPerKeyVersion is < 1 or > XksListenerOptions.NistRandomIvLimit)
        {
            throw new InvalidOperationException("Xks.MaxEncryptionsPerKeyVersion must be 1..4294967296 (2^32, NIST SP 800-38D's bound for random IVs).");
        }

        if (options.Xks.UnauthenticatedPerSecondPerSource < 0)
        {
            throw new InvalidOperationException("Xks.UnauthenticatedPerSecondPerSource must be 0 (off) or more.");
        }

        if (!options.Xks.Tls.Enabled && !options.Xks.AllowPlainHttp)
        {
            throw new InvalidOperationException("The XKS listener needs a TLS certificate (Xks.Tls.CertificatePath); AWS KMS only calls HTTPS. Set Xks.AllowPlainHttp only behind your own TLS terminator.");
        }

        options.Storage.Validate();
        options.Oidc?.Validate();
        NodeIdentity.Validate(options.NodeId);
        options.Cluster.Validate();
    }

    /// <summary>The dev and pkcs11 seals need no operator: they unseal at start (<see cref="SelfUnseal"/>).</summary>
    private static async Task AutoUnsealAsync(CofferOptions options, SealManager seal, ILogger logger, CancellationToken ct)
    {
        var kind = await seal.Storage.System.GetSettingAsync(SettingNames.SealKind, ct);
        if (kind is not null && kind != options.Seal)
        {
            throw new InvalidOperationException($"The database was initialised with the '{kind}' seal but the configuration says '{options.Seal}'.");
        }

        if (kind == SealKinds.Dev)
        {
            Log.DevSeal(logger, options.ResolvedDevMasterKeyPath);
            await SelfUnseal.UnsealAsync(kind, seal, options, ct);
        }
        else if (kind == SealKinds.Pkcs11)
        {
            try
            {
                await SelfUnseal.UnsealAsync(kind, seal, options, ct);
            }
            catch (Exception e) when (e is CryptoBackendUnavailableException or CryptoException or SealStateException or AuditUnavailableException)
            {
                // Stay up and sealed: `coffer unseal` (no share needed) tries again once the HSM (or
                // the audit store, which must record the unseal first) is back.
                Log.Pkcs11UnsealFailed(logger, e.Message);
            }
        }
        else if (kind is null)
        {
            // Each seal is initialised its own way; the advice must match the one configured.
            Log.NotInitialized(logger, options.Seal == SealKinds.Pkcs11 ? "coffer init --seal pkcs11" : "coffer init --shares N --threshold M");
        }
        else
        {
            Log.StartedSealed(logger);
        }
    }

    private static WebApplication BuildXks(NodeServices node, AccessRules rules, ClusterFreshness freshness)
    {
        var (options, seal, _, _, time, _, _, _, _, _, _) = node;
        var builder = NewBuilder(node);
        builder.Services.AddSingleton(rules);
        builder.Services.AddSingleton(freshness);
        builder.Services.AddSingleton(options.Xks);
        builder.Services.AddSingleton(sp => new SigV4Verifier(time));
        builder.Services.AddSingleton<DeepHealthCheck>();
        builder.Services.AddSingleton<EncryptionBudgets>();
        builder.Services.AddSingleton<SourceLimits>();
        // Disposed with the XKS listener's services, after it stopped and before the audit log: the
        // last interval's counts are written at a graceful stop.
        builder.Services.AddSingleton<AnonymousFailures>();
        builder.Services.AddSingleton<XksHandler>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(ParseAddress(options.Xks.Address), options.Xks.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                if (options.Xks.Tls.Enabled)
                {
                    listen.UseHttps(TlsSetup.Create(options.Xks.Tls, time));
                }
            });
        });

        var app = builder.Build();
        var handler = app.Services.GetRequiredService<XksHandler>();
        app.Run(context => context.Request.Path.Value == "/ping" ? PingAsync(context, seal, freshness) : handler.HandleAsync(context));
        return app;
    }

    /// <summary>Unauthenticated load-balancer check (XKS spec, "Load balancer health checks"):
    /// 200 while this node can serve key operations, 503 while sealed or not current with the cluster.</summary>
    private static Task PingAsync(HttpContext context, SealManager seal, ClusterFreshness freshness)
    {
        var answer = seal.IsSealed ? "sealed\n" : freshness.IsCurrent ? "ok\n" : "stale\n";
        context.Response.StatusCode = answer == "ok\n" ? 200 : 503;
        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync(answer);
    }

    private static WebApplication BuildAdmin(NodeServices node, WebhookAlerts alerts, AccessRules rules)
    {
        var (options, seal, _, _, time, _, _, _, metrics, _, _) = node;
        var builder = NewBuilder(node);
        builder.Services.AddSingleton(alerts);
        builder.Services.AddSingleton(rules);
        builder.Services.AddManagementServices();
        if (options.Oidc is not null)
        {
            builder.Services.AddSingleton(sp => new OidcTokenValidator(options.Oidc, time, sp.GetRequiredService<ILogger<OidcTokenValidator>>()));
        }

        builder.Services.AddManagementAccess();
        builder.Services.AddSingleton<Approvals.ApprovalRuns>();
        builder.Services.AddSingleton<Lifecycle.DestructionSweeper>();
        builder.Services.AddHostedService(services => services.GetRequiredService<Lifecycle.DestructionSweeper>());
        // The lifecycle scheduler lives with the management listener: started and stopped with it.
        builder.Services.AddSingleton<RotationScheduler>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RotationScheduler>());
        builder.Services.AddHostedService<FullReload>();
        builder.Services.AddProblemDetails(problems => problems.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Detail ??= context.ProblemDetails.Status switch
            {
                404 => "No such management API path; the API is described at /api/v1/openapi.json.",
                405 => $"{context.HttpContext.Request.Method} is not allowed on this path; the API is described at /api/v1/openapi.json.",
                415 => "Send the request body as JSON with 'Content-Type: application/json'.",
                _ => null,
            };
        });
        // Unreadable bodies throw, so ProblemMiddleware answers them with what was wrong.
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, ManagementJson.Default);

            // ManagementJson's own options apply only to its own serializer, not to these: absent
            // fields (no description, no matcher, no release) are left out of answers, not written as null.
            json.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
        });
        builder.Services.AddOpenApi("v1", openApi => openApi
            .AddOperationTransformer(EndpointPermissions.DocumentPermission).AddDocumentTransformer(EndpointPermissions.DocumentBearerScheme));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(ParseAddress(options.Admin.Address), options.Admin.Port, listen =>
            {
                if (options.Admin.Tls.Enabled)
                {
                    listen.UseHttps(TlsSetup.Create(options.Admin.Tls, time));
                }
            });
        });

        var app = builder.Build();
        app.UseMiddleware<ProblemMiddleware>();
        app.UseStatusCodePages();
        app.UseRouting();
        app.UseManagementAccess();
        // After the permission check, before any endpoint filter: a guarded call may become an approval request.
        app.Use(Approvals.QuorumGate.InvokeAsync);
        app.MapOpenApi("/api/{documentName}/openapi.json").AllowAnonymous();
        // Prometheus scrapes with a token whose role reads metrics (auditor, operator, administrator).
        app.MapMetrics("/metrics", metrics.Registry).RequirePermission(Coffer.Auth.Permissions.MetricsRead);
        app.MapGet("/healthz", () => TypedResults.Ok("ok")).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/readyz", () => seal.IsSealed ? Results.Problem(statusCode: 503, title: "Coffer is sealed") : TypedResults.Ok("ready"))
            .AllowAnonymous().ExcludeFromDescription();

        // Every /api/v1 endpoint needs a token unless it is marked AllowAnonymous (ManagementAccess).
        var api = app.MapGroup("/api/v1");
        SystemEndpoints.Map(api);
        KeyStoreEndpoints.Map(api);
        CredentialEndpoints.Map(api);
        KeyEndpoints.Map(api);
        RotationPolicyEndpoints.Map(api);
        AuditEndpoints.Map(api);
        AuditSinkEndpoints.Map(api);
        AuditArchiveEndpoints.Map(api);
        KillSwitchEndpoints.Map(api);
        TokenEndpoints.Map(api);
        PrincipalEndpoints.Map(api);
        RoleEndpoints.Map(api);
        AlertEndpoints.Map(api);
        PolicyEndpoints.Map(api);
        RegionSetEndpoints.Map(api);
        Approvals.QuorumPolicyEndpoints.Map(api);
        Approvals.ApprovalEndpoints.Map(api);
        ManagementAudit.EnsureEveryChangeIsAudited(app);
        return app;
    }

    /// <summary>
    /// A listener's host with the singletons both listeners share: one seal, one audit log (one chain
    /// per node), one set of kill switches, one metrics registry. Coffer is configured by
    /// <see cref="CofferOptions"/> alone, so the host is rooted in Coffer's own directory and watches no
    /// files: by default it roots itself in the working directory and watches it, subdirectories
    /// included, for appsettings changes — and that directory often holds the database, so every audit
    /// write (WAL append) also woke a file watcher (~9 % of an audited encrypt's CPU in a profile).
    /// </summary>
    private static WebApplicationBuilder NewBuilder(NodeServices node)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(node.Loggers);
        builder.Services.AddSingleton(node.Options);
        builder.Services.AddSingleton(node.Seal);
        builder.Services.AddSingleton(node.Audit);
        builder.Services.AddSingleton(node.Storage);
        builder.Services.AddSingleton(node.Time);
        builder.Services.AddSingleton(node.KillSwitches);
        builder.Services.AddSingleton(node.Sinks);
        builder.Services.AddSingleton(node.Metrics);
        builder.Services.AddSingleton<Coffer.Changes.IChangeFeed>(node.Changes);
        builder.Services.AddSingleton(node.Cluster);
        builder.Services.AddSingleton(node.Cluster.Leadership);
        return builder;
    }

    /// <summary>What one node's two listeners are built from.</summary>
    private sealed record NodeServices(
        CofferOptions Options, SealManager Seal, AuditLog Audit, ICofferStorage Storage, TimeProvider Time, ILoggerFactory Loggers,
        KillSwitchBoard KillSwitches, AuditForwarders Sinks, CofferMetrics Metrics, ChangeFeed Changes, ClusterMembership Cluster);

    private static IPAddress ParseAddress(string address) => address switch
    {
        "localhost" => IPAddress.Loopback,
        "*" or "" => IPAddress.Any,
        _ => IPAddress.Parse(address),
    };

    private static Uri BoundAddress(WebApplication app)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Uri(address.Replace("://[::]", "://127.0.0.1", StringComparison.Ordinal).Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal));
    }

    public async Task StopAsync(CancellationToken ct = default)
    {
        await _xks.StopAsync(ct);
        await _admin.StopAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        // First: scheduled work stops here and another node takes the lease at once.
        await _cluster.DisposeAsync();
        await StopAsync();
        await _xks.DisposeAsync();
        await _admin.DisposeAsync();
        if (_clusterChanges is not null)
        {
            // Before the caches it reloads are gone.
            await _clusterChanges.DisposeAsync();
        }

        var storage = Seal.Storage;
        // Before the seal: a delivery in flight is abandoned while it can still open its secret; it stays pending.
        await _alerts.DisposeAsync();
        Seal.Dispose();
        _changes.Dispose();
        // After the listeners stopped: every record of an answered call is already written; the
        // writer drains what is left before the storage closes.
        await Audit.DisposeAsync();
        // Before the storage closes: a batch in flight is abandoned, its cursor unmoved (sent again).
        await _sinks.DisposeAsync();
        storage.Dispose();
        DisposeAll(_hsmBackends);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "DEV SEAL: the master key is read from {Path} in clear. Never use the dev seal for real keys.")]
        public static partial void DevSeal(ILogger logger, string path);

        [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Coffer is not initialised: run '{InitCommand}' against the management API")]
        public static partial void NotInitialized(ILogger logger, string initCommand);

        [LoggerMessage(EventId = 1104, Level = LogLevel.Error, Message = "The pkcs11 seal could not unseal at start ({Reason}); Coffer stays sealed until `coffer unseal`")]
        public static partial void Pkcs11UnsealFailed(ILogger logger, string reason);

        [LoggerMessage(EventId = 1103, Level = LogLevel.Error, Message = "The PKCS#11 token is unreachable at start ({Reason}); pkcs11 key stores answer DependencyTimeoutException until it returns")]
        public static partial void HsmDownAtStart(ILogger logger, string reason);

        [LoggerMessage(EventId = 1105, Level = LogLevel.Critical, Message = "AUDIT LOG OFF: {Variable}=1 is set, so nothing is recorded. This is for benchmarks only; never run real keys like this.")]
        public static partial void Unaudited(ILogger logger, string variable);

        [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Coffer started sealed: run 'coffer unseal' with enough shares")]
        public static partial void StartedSealed(ILogger logger);
    }
}
