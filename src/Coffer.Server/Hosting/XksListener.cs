using Coffer.Server.Changes;
using Coffer.Server.Seal;
using Coffer.Server.Xks;
using Coffer.Server.Xks.Anonymous;
using Coffer.Server.Xks.SigV4;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Coffer.Server.Hosting;

/// <summary>The XKS listener: only the XKS routes and <c>GET /ping</c>, no middleware in front of
/// <see cref="XksHandler"/> (docs/design.md, "Performance budget").</summary>
internal sealed class XksListener(WebApplication app) : Listener(app)
{
    /// <summary>The unauthenticated XKS requests counted since the last audit record of them.</summary>
    public AnonymousFailures AnonymousFailures => App.Services.GetRequiredService<AnonymousFailures>();

    public static WebApplication Build(IServiceProvider node)
    {
        var options = node.GetRequiredService<CofferOptions>();
        var time = node.GetRequiredService<TimeProvider>();
        var seal = node.Part<SealManager>();
        var freshness = node.GetRequiredService<ClusterFreshness>();
        var builder = NewBuilder(node);
        builder.Services.AddSingleton(freshness);
        builder.Services.AddSingleton(options.Xks);
        builder.Services.AddSingleton(sp => new SigV4Verifier(time));
        builder.Services.AddSingleton<DeepHealthCheck>();
        builder.Services.AddSingleton(node.GetRequiredService<EncryptionBudgets>());
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
}
