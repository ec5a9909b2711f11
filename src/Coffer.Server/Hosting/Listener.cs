using System.Net;
using Coffer.Server.Audit;
using Coffer.Server.Audit.Sinks;
using Coffer.Server.Changes;
using Coffer.Server.Cluster;
using Coffer.Server.KillSwitches;
using Coffer.Server.Metrics;
using Coffer.Server.Policies;
using Coffer.Server.Seal;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Hosting;

/// <summary>
/// One of a node's two Kestrel listeners (<see cref="XksListener"/>, <see cref="AdminListener"/>): a
/// host of its own, so each serves only its own routes, sharing the node's opened parts.
/// </summary>
internal abstract class Listener(WebApplication app) : IAsyncDisposable
{
    public WebApplication App => app;

    /// <summary>Scheme, host and port it listens on, e.g. <c>https://127.0.0.1:8443</c>.</summary>
    public Uri Url
    {
        get
        {
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new Uri(address.Replace("://[::]", "://127.0.0.1", StringComparison.Ordinal).Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal));
        }
    }

    /// <summary>Starts the listener; one that cannot (its port is taken) is disposed at once.</summary>
    public static async Task<T> StartAsync<T>(T listener, CancellationToken ct)
        where T : Listener
    {
        try
        {
            await listener.App.StartAsync(ct);
        }
        catch
        {
            await listener.App.DisposeAsync();
            throw;
        }

        return listener;
    }

    /// <summary>Stops accepting, lets calls in flight finish, then disposes the listener's services.</summary>
    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    /// <summary>
    /// A listener's host with the parts both listeners share: one seal, one audit log (one chain per
    /// node), one set of kill switches, one metrics registry, one place in the cluster. Coffer is configured by
    /// <see cref="CofferOptions"/> alone, so the host is rooted in Coffer's own directory and watches no
    /// files: by default it roots itself in the working directory and watches it, subdirectories
    /// included, for appsettings changes — and that directory often holds the database, so every audit
    /// write (WAL append) also woke a file watcher (~9 % of an audited encrypt's CPU in a profile).
    /// </summary>
    protected static WebApplicationBuilder NewBuilder(IServiceProvider node)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        var services = builder.Services;
        // Not the default console lifetime, whose SIGINT/SIGTERM handlers (one per listener, two per
        // node) run on the one thread that delivers the signal to every handler in the process, ahead
        // of or instead of the CLI's own: a listener stops when its node stops, never on a signal.
        services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        services.AddSingleton(node.GetRequiredService<ILoggerFactory>());
        services.AddSingleton(node.GetRequiredService<CofferOptions>());
        services.AddSingleton(node.GetRequiredService<TimeProvider>());
        services.AddSingleton(node.Part<SealManager>());
        services.AddSingleton(node.Part<AuditLog>());
        services.AddSingleton(node.Part<ICofferStorage>());
        services.AddSingleton(node.Part<KillSwitchBoard>());
        services.AddSingleton(node.Part<AuditForwarders>());
        services.AddSingleton(node.Part<AccessRules>());
        services.AddSingleton(node.GetRequiredService<CofferMetrics>());
        services.AddSingleton<Coffer.Changes.IChangeFeed>(node.Part<ChangeFeed>());
        services.AddSingleton(node.Part<ClusterMembership>());
        services.AddSingleton(node.Part<ClusterMembership>().Leadership);
        return builder;
    }

    protected static IPAddress ParseAddress(string address) => address switch
    {
        "localhost" => IPAddress.Loopback,
        "*" or "" => IPAddress.Any,
        _ => IPAddress.Parse(address),
    };
}
