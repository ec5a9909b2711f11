using Coffer.Server.Hosting;
using Coffer.Storage;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Audit.Sinks;

/// <summary>The node's configured audit sinks, each with its <see cref="AuditForwarder"/>; none when
/// both are off (the default).</summary>
internal sealed class AuditForwarders : IAsyncDisposable
{
    private readonly IReadOnlyList<AuditForwarder> _forwarders;

    private AuditForwarders(IReadOnlyList<AuditForwarder> forwarders) => _forwarders = forwarders;

    public IEnumerable<AuditSinkStatus> Statuses => _forwarders.Select(f => f.Status);

    /// <summary>Starts a forwarder per enabled sink (their options were checked at start: AuditSinkOptionsValidator);
    /// each sends only while this node leads the cluster.</summary>
    public static async Task<AuditForwarders> StartAsync(CofferOptions options, ICofferStorage storage, Cluster.Leadership leadership, TimeProvider time, ILoggerFactory loggers, CancellationToken ct = default)
    {
        var audit = options.Audit;
        var started = new List<AuditForwarder>();
        var logger = loggers.CreateLogger<AuditForwarder>();
        try
        {
            if (audit.Syslog.Enabled)
            {
                started.Add(await AuditForwarder.StartAsync(new SyslogSink(audit.Syslog, time), storage, audit.Syslog, leadership, time, logger, ct));
            }

            if (audit.File.Enabled)
            {
                var path = audit.File.Path ?? Path.Combine(options.DataDirectory, "audit.jsonl");
                started.Add(await AuditForwarder.StartAsync(new FileSink(path, audit.File.MaxFileBytes, audit.File.KeepFiles), storage, audit.File, leadership, time, logger, ct));
            }
        }
        catch
        {
            await new AuditForwarders(started).DisposeAsync();
            throw;
        }

        return new AuditForwarders(started);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var forwarder in _forwarders)
        {
            await forwarder.DisposeAsync();
        }
    }
}
