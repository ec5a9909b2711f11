using Coffer.Server.Hosting;
using Coffer.Server.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Coffer.Server.Telemetry;

/// <summary>
/// OTLP export of the node's metrics and traces, through the OpenTelemetry SDK's hosted service
/// (docs/observability.md, "OTLP"). Without <see cref="TelemetryOptions.Otlp"/> nothing is registered:
/// no provider listens, so ASP.NET Core starts no activity for a request and the XKS hot path records
/// no second histogram.
/// </summary>
internal static class OtlpExport
{
    /// <summary>Added before the node's parts: the SDK's hosted service starts first and stops last,
    /// so the final export carries what the stopping listeners recorded.</summary>
    public static void AddOtlpExport(this IServiceCollection services, CofferOptions options)
    {
        if (options.Telemetry.Otlp is not { } otlp)
        {
            return;
        }

        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("coffer", serviceInstanceId: options.NodeId));
        if (otlp.Traces)
        {
            // Spans carry what ASP.NET Core records by default — method, path, route, status, scheme,
            // server — and none of the headers or bodies, where tokens, signatures and plaintext are.
            // The instrumentation redacts query values. Load balancers' /ping checks are left out.
            telemetry.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(aspNetCore => aspNetCore.Filter = context => context.Request.Path != "/ping")
                .AddOtlpExporter(exporter => Configure(exporter, otlp, "traces")));
        }

        if (otlp.Metrics)
        {
            services.AddSingleton(node => new CofferMeter(node.GetRequiredService<NodeReadings>(), options.NodeId));
            telemetry.WithMetrics(metrics => metrics
                .AddMeter(CofferMeter.Name)
                .AddOtlpExporter((exporter, reader) =>
                {
                    Configure(exporter, otlp, "metrics");
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = otlp.ExportIntervalSeconds * 1000;
                }));
        }
    }

    // Set in code, the endpoint is used as it is: for http/protobuf each signal's path is added here.
    private static void Configure(OtlpExporterOptions exporter, OtlpOptions otlp, string signal)
    {
        var endpoint = new Uri(otlp.Endpoint!);
        if (otlp.HeadersEnvironmentVariable is { } variable)
        {
            exporter.Headers = Environment.GetEnvironmentVariable(variable);
        }

        if (otlp.Protocol == OtlpOptions.Grpc)
        {
            exporter.Protocol = OtlpExportProtocol.Grpc;
            exporter.Endpoint = endpoint;
        }
        else
        {
            exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
            exporter.Endpoint = new Uri(endpoint.AbsoluteUri.TrimEnd('/') + "/v1/" + signal);
        }
    }
}
