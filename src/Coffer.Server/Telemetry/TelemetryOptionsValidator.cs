using Coffer.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Coffer.Server.Telemetry;

/// <summary>OTLP export (<see cref="OtlpOptions"/>), when configured.</summary>
internal sealed class TelemetryOptionsValidator : IValidateOptions<CofferOptions>
{
    public ValidateOptionsResult Validate(string? name, CofferOptions options)
    {
        var problems = new OptionsProblems();
        if (options.Telemetry.Otlp is not { } otlp)
        {
            return problems.Result;
        }

        problems.Require(IsEndpoint(otlp.Endpoint),
            $"Telemetry:Otlp:Endpoint must be the collector's http or https URL without query or fragment (e.g. http://collector:4318); got '{otlp.Endpoint}'. Leave Telemetry:Otlp out to export nothing.");
        problems.Require(otlp.Protocol is OtlpOptions.HttpProtobuf or OtlpOptions.Grpc,
            $"Telemetry:Otlp:Protocol must be '{OtlpOptions.HttpProtobuf}' or '{OtlpOptions.Grpc}', not '{otlp.Protocol}'.");
        problems.Require(otlp.ExportIntervalSeconds is >= 1 and <= 3600,
            $"Telemetry:Otlp:ExportIntervalSeconds must be 1..3600, not {otlp.ExportIntervalSeconds}.");
        problems.Require(otlp.HeadersEnvironmentVariable is null || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(otlp.HeadersEnvironmentVariable)),
            $"Telemetry:Otlp:HeadersEnvironmentVariable names '{otlp.HeadersEnvironmentVariable}', which is not set.");
        problems.Require(otlp.Traces || otlp.Metrics,
            "Telemetry:Otlp exports nothing with both Traces and Metrics false; leave Telemetry:Otlp out instead.");
        return problems.Result;
    }

    // Credentials in the URL would reach logs and the exporter's error messages: refused with the rest.
    private static bool IsEndpoint(string? endpoint) =>
        Uri.TryCreate(endpoint, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && uri.Query.Length == 0 && uri.Fragment.Length == 0 && uri.UserInfo.Length == 0;
}
