namespace Coffer.Server.Telemetry;

/// <summary>Export of metrics and traces besides GET /metrics (docs/observability.md).</summary>
public sealed class TelemetryOptions
{
    /// <summary>OpenTelemetry export (OTLP) to a collector; off when absent, and then nothing of it runs.</summary>
    public OtlpOptions? Otlp { get; set; }
}

/// <summary>Where and how the node sends its metrics and traces over OTLP.</summary>
public sealed class OtlpOptions
{
    /// <summary>The <see cref="Protocol"/> values.</summary>
    public const string Grpc = "grpc";

    /// <inheritdoc cref="Grpc"/>
    public const string HttpProtobuf = "http/protobuf";

    /// <summary>The collector's base URL, http or https: e.g. <c>http://collector:4318</c> for
    /// <c>http/protobuf</c>, to which <c>/v1/metrics</c> and <c>/v1/traces</c> are appended, or
    /// <c>http://collector:4317</c> for <c>grpc</c>.</summary>
    public string? Endpoint { get; set; }

    /// <summary><c>http/protobuf</c> (default) or <c>grpc</c>.</summary>
    public string Protocol { get; set; } = HttpProtobuf;

    /// <summary>Seconds between two exports of the metrics.</summary>
    public int ExportIntervalSeconds { get; set; } = 60;

    /// <summary>Environment variable holding the headers a collector wants (its credentials), as
    /// <c>name=value</c> pairs separated by commas; never the headers themselves, so no secret sits in
    /// the configuration.</summary>
    public string? HeadersEnvironmentVariable { get; set; }

    /// <summary>Send traces: one span per XKS and management request (default on).</summary>
    public bool Traces { get; set; } = true;

    /// <summary>Send metrics (default on).</summary>
    public bool Metrics { get; set; } = true;
}
