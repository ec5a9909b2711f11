using System.Globalization;
using Coffer.Audit;
using Coffer.Server.Audit;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Xks.Anonymous;

/// <summary>What an unauthenticated XKS request is counted under: each distinct value is one audit
/// record per interval. Every part is either chosen by Coffer or bounded (an address, a known key store).</summary>
/// <param name="KeyStore">The key store's id, its prefix while sealed, or null for a path no key store serves.</param>
internal readonly record struct AnonymousFailureKey(string? SourceIp, string? KeyStore, AuditOutcome Outcome, string? ErrorName, string? Reason);

/// <summary>
/// Counts the XKS requests that never authenticated and writes what it counted as one
/// <see cref="AuditActions.XksUnauthenticated"/> record per <see cref="AnonymousFailureKey"/> every
/// <see cref="Interval"/>, and at a graceful stop (docs/architecture.md, "Anonymous traffic").
/// </summary>
/// <remarks>
/// A caller without credentials must not buy a durable write per request: one loopback client grew the
/// database by 57 MB in 10 s when each was a record, and a full disk fails every real call closed. The
/// price: a crash loses at most one interval of these counts. Memory is bounded by
/// <see cref="MaxKeys"/> tallies of <see cref="MaxSamples"/> short samples; beyond that everything
/// goes to one overflow tally.
/// </remarks>
internal sealed partial class AnonymousFailures : IAsyncDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    internal const int MaxKeys = 1024;

    internal const int MaxSamples = 3;

    /// <summary>Longest sample (method and path); longer ones are cut and end in "...".</summary>
    internal const int MaxSampleLength = 200;

    internal const string OverflowReason = "overflow";

    private static readonly AnonymousFailureKey Overflow = new(null, null, AuditOutcome.Error, null, OverflowReason);

    private readonly AuditLog _audit;
    private readonly TimeProvider _time;
    private readonly ILogger<AnonymousFailures> _logger;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private Dictionary<AnonymousFailureKey, Tally> _tallies = [];
    private Task _writing = Task.CompletedTask;

    public AnonymousFailures(AuditLog audit, TimeProvider time, ILogger<AnonymousFailures> logger)
    {
        _audit = audit;
        _time = time;
        _logger = logger;
        _timer = time.CreateTimer(_ => OnInterval(), null, Interval, Interval);
    }

    /// <summary>Counts one request; <paramref name="method"/> and <paramref name="path"/> make a
    /// sample while its tally has fewer than <see cref="MaxSamples"/>.</summary>
    public void Count(AnonymousFailureKey key, string method, string? path)
    {
        if (!_audit.Enabled)
        {
            return;
        }

        var now = _time.GetUtcNow();
        lock (_lock)
        {
            if (!_tallies.TryGetValue(key, out var tally))
            {
                if (_tallies.Count >= MaxKeys)
                {
                    key = Overflow;
                    _tallies.TryGetValue(key, out tally);
                }

                if (tally is null)
                {
                    tally = new Tally(now);
                    _tallies.Add(key, tally);
                }
            }

            tally.Count++;
            tally.Last = now;
            if (tally.Samples.Count < MaxSamples)
            {
                tally.Samples.Add(Sample(method, path));
            }
        }
    }

    /// <summary>Writes every tally as one audit record and starts afresh; completes when they are durable
    /// (or logged as lost, if the audit log cannot take them).</summary>
    public Task FlushAsync()
    {
        Dictionary<AnonymousFailureKey, Tally> taken;
        lock (_lock)
        {
            if (_tallies.Count == 0)
            {
                return Task.CompletedTask;
            }

            taken = _tallies;
            _tallies = [];
        }

        return WriteAsync(taken);
    }

    public async ValueTask DisposeAsync()
    {
        await _timer.DisposeAsync();
        await FlushAsync();
        await _writing;
    }

    private void OnInterval()
    {
        var flush = FlushAsync();
        lock (_lock)
        {
            // Only a write still running is kept, so the chain never grows.
            _writing = _writing.IsCompleted ? flush : Task.WhenAll(_writing, flush);
        }
    }

    private async Task WriteAsync(Dictionary<AnonymousFailureKey, Tally> taken)
    {
        // Queued together, so the audit writer commits them as one batch.
        var writes = taken.Select(t => (Tally: t.Value, Write: AppendAsync(ToEvent(t.Key, t.Value)))).ToList();
        foreach (var (tally, write) in writes)
        {
            try
            {
                await write;
            }
            catch (AuditUnavailableException e)
            {
                Log.Lost(_logger, tally.Count, e.Message);
            }
        }
    }

    // Async so that a log that is shut down fails the task rather than the caller.
    private async Task AppendAsync(AuditEvent auditEvent) => await _audit.AppendAsync(auditEvent);

    private static AuditEvent ToEvent(AnonymousFailureKey key, Tally tally) => new()
    {
        Action = AuditActions.XksUnauthenticated,
        Outcome = key.Outcome,
        ErrorName = key.ErrorName,
        Reason = key.Reason,
        ActorKind = AuditActorKinds.Anonymous,
        KeyStore = key.KeyStore,
        SourceIp = key.SourceIp,
        Details = UnauthenticatedTally.Details(tally.Count, tally.First, tally.Last, tally.Samples),
    };

    private static string Sample(string method, string? path)
    {
        var sample = method + " " + path;
        return sample.Length <= MaxSampleLength ? sample : string.Concat(sample.AsSpan(0, MaxSampleLength - 3), "...");
    }

    private sealed class Tally(DateTimeOffset first)
    {
        public long Count { get; set; }

        public DateTimeOffset First { get; } = first;

        public DateTimeOffset Last { get; set; } = first;

        public List<string> Samples { get; } = new(MaxSamples);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2010, Level = LogLevel.Error, Message = "{Count} unauthenticated XKS requests could not be recorded: the audit log did not take their record ({Reason})")]
        public static partial void Lost(ILogger logger, long count, string reason);
    }
}
