using Coffer.Server.Alerts;
using Coffer.Server.Changes;
using Coffer.Server.Lifecycle;
using Coffer.Server.Management;
using Coffer.Server.Management.Oidc;
using Coffer.Server.Metrics;
using Coffer.Server.Seal;
using Coffer.Server.Services;
using Coffer.Server.WebConsole;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Coffer.Server.Hosting;

/// <summary>The management listener: <c>/api/v1</c>, the web console, its OpenAPI document, <c>/metrics</c>,
/// <c>/healthz</c> and <c>/readyz</c>; the lifecycle schedulers are its hosted services, started and
/// stopped with it.</summary>
internal sealed class AdminListener(WebApplication app) : Listener(app)
{
    public static WebApplication Build(IServiceProvider node)
    {
        var options = node.GetRequiredService<CofferOptions>();
        var time = node.GetRequiredService<TimeProvider>();
        var seal = node.Part<SealManager>();
        var metrics = node.GetRequiredService<CofferMetrics>();
        var builder = NewBuilder(node);
        builder.Services.AddSingleton(node.Part<WebhookAlerts>());
        builder.Services.AddManagementServices();
        if (options.Oidc is not null)
        {
            builder.Services.AddSingleton(sp => new OidcTokenValidator(options.Oidc, time, sp.GetRequiredService<ILogger<OidcTokenValidator>>()));
        }

        builder.Services.AddManagementAccess();
        builder.Services.AddSingleton(new ConsoleSessions(node.Part<Storage.ICofferStorage>(), time, secure: options.Admin.Tls.Enabled, options.Oidc));
        if (options.Oidc is { HasBrowserLogin: true })
        {
            builder.Services.AddSingleton(sp => ActivatorUtilities.CreateInstance<OidcConsoleLogin>(sp, options.Oidc, node.Part<Storage.ICofferStorage>(), options.Admin.Tls.Enabled));
        }
        builder.Services.AddSingleton<Approvals.ApprovalRuns>();
        builder.Services.AddSingleton<DestructionSweeper>();
        builder.Services.AddHostedService(services => services.GetRequiredService<DestructionSweeper>());
        builder.Services.AddSingleton<RotationScheduler>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RotationScheduler>());
        builder.Services.AddHostedService<FullReload>();
        builder.Services.AddHostedService<XksTrafficWriter>();
        builder.Services.AddSingleton<Audit.Retention.AuditArchiving>();
        builder.Services.AddSingleton<Audit.Retention.AuditRetention>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Audit.Retention.AuditRetention>());
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
        app.UseWebConsole();
        app.UseRouting();
        app.UseManagementAccess();
        // After the permission check, before any endpoint filter: a guarded call may become an approval request.
        app.Use(Approvals.QuorumGate.InvokeAsync);
        app.MapOpenApi("/api/{documentName}/openapi.json").AllowAnonymous();
        // Prometheus scrapes with a token whose role reads metrics (auditor, operator, administrator).
        app.MapMetrics("/metrics", metrics.Registry).RequirePermission(Coffer.Auth.Permissions.MetricsRead);
        app.MapConsoleEntry();
        app.MapGet("/healthz", () => TypedResults.Ok("ok")).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/readyz", () => seal.IsSealed ? Results.Problem(statusCode: 503, title: "Coffer is sealed") : TypedResults.Ok("ready"))
            .AllowAnonymous().ExcludeFromDescription();

        // Every /api/v1 endpoint needs a token unless it is marked AllowAnonymous (ManagementAccess).
        var api = app.MapGroup("/api/v1");
        SystemEndpoints.Map(api);
        MasterKeyEndpoints.Map(api);
        RekeyEndpoints.Map(api);
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
        Backup.BackupEndpoints.Map(api);
        SessionEndpoints.Map(api);
        TrafficEndpoints.Map(api);
        ManagementAudit.EnsureEveryChangeIsAudited(app);
        return app;
    }
}
