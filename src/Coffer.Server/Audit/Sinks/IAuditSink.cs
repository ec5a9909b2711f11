using Coffer.Audit;

namespace Coffer.Server.Audit.Sinks;

/// <summary>
/// A destination of audit records outside the database (a syslog receiver, a JSON-lines file). Driven
/// by one <see cref="AuditForwarder"/>, so calls never overlap; not thread-safe otherwise.
/// </summary>
internal interface IAuditSink : IAsyncDisposable
{
    /// <summary>Short stable name (<c>syslog</c>, <c>file</c>): the cursor setting and the API use it.</summary>
    string Name { get; }

    /// <summary>Where records go, for operators (<c>tls://siem:6514</c>, a path); never a secret.</summary>
    string Target { get; }

    /// <summary>
    /// Delivers <paramref name="records"/> (ascending, contiguous) and completes only once the sink has
    /// them as durably as it can say (fsync'd, written to an open connection). Throws when it could not;
    /// the forwarder then sends the same records again, so a sink must accept a repeat.
    /// </summary>
    Task DeliverAsync(IReadOnlyList<AuditRecord> records, CancellationToken ct);
}
