using System.Globalization;
using Coffer.Audit;

namespace Coffer.Alerts;

/// <summary>
/// Which audit records are alert events, and under what type (docs/alerts.md). Every lifecycle change
/// is already an audit record, so an event is simply a record read back: its action is the type.
/// </summary>
/// <remarks>
/// Matched by the <c>key.</c> and <c>approval.</c> prefixes rather than a fixed list, so actions added
/// later (scheduled rotation, expiry warnings, destruction, interrupted approvals) are events without a
/// change here. Approval events tell approvers that a request waits for their votes and everyone
/// how it ended, without anyone polling <c>coffer approval list</c>. A change of cluster leader
/// (<c>cluster.leader</c>: a node took the lease, or the leader stepped down) is an event too: the
/// node that runs the scheduled work, the alerts and the audit sinks has changed (docs/cluster.md).
/// </remarks>
public static class AlertEventTypes
{
    /// <summary>Actions under this prefix are key lifecycle actions.</summary>
    public const string KeyPrefix = "key.";

    /// <summary>Actions under this prefix are quorum approval requests, their votes and their ends.</summary>
    public const string ApprovalPrefix = "approval.";

    /// <summary>Appended to a rotation's action when it failed.</summary>
    public const string FailedSuffix = ".failed";

    /// <summary>The event type of <paramref name="e"/>, or null when it is no event.</summary>
    /// <remarks>
    /// <c>requested</c> records announce a change that has not happened yet, denied and failed ones
    /// changed nothing — except a failed rotation or approved call, which matter precisely because they
    /// failed: <c>key.rotate</c> with outcome error becomes <c>key.rotate.failed</c>, and
    /// <c>approval.execute</c> <c>approval.execute.failed</c>.
    /// </remarks>
    public static string? TypeOf(AuditEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.Action == AuditActions.ClusterLeader)
        {
            return e.Outcome == AuditOutcome.Ok ? e.Action : null;
        }

        if (e.Action == AuditActions.AuditRetention)
        {
            // Records past their age stay in the live log until someone looks.
            return e.Outcome == AuditOutcome.Error ? e.Action + FailedSuffix : null;
        }

        if (e.Action.StartsWith(ApprovalPrefix, StringComparison.Ordinal))
        {
            // A held call that ran and failed matters as much as a failed rotation.
            return e.Outcome switch
            {
                AuditOutcome.Ok => e.Action,
                AuditOutcome.Error when e.Action == AuditActions.ApprovalExecute => e.Action + FailedSuffix,
                _ => null,
            };
        }

        if (!e.Action.StartsWith(KeyPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        return e.Outcome switch
        {
            AuditOutcome.Ok => e.Action,
            AuditOutcome.Error when IsRotation(e.Action) => e.Action + FailedSuffix,
            _ => null,
        };
    }

    /// <summary><c>key.rotate</c> and the actions under it (<c>key.rotate.scheduled</c>).</summary>
    public static bool IsRotation(string action) =>
        action == "key.rotate" || action.StartsWith("key.rotate.", StringComparison.Ordinal);

    /// <summary>
    /// Whether a webhook with <paramref name="filters"/> wants <paramref name="type"/>: an empty filter
    /// wants everything; <c>*</c> too; otherwise a filter matches its own type and every type under it
    /// (<c>key.version</c> matches <c>key.version.activate</c>, <c>key.rotate</c> matches
    /// <c>key.rotate.scheduled</c> and <c>key.rotate.failed</c>), never a type that merely starts with
    /// the same letters (<c>key.rotate</c> does not match <c>key.rotated</c>).
    /// </summary>
    public static bool Matches(IReadOnlyList<string> filters, string type)
    {
        ArgumentNullException.ThrowIfNull(filters);
        if (filters.Count == 0)
        {
            return true;
        }

        foreach (var filter in filters)
        {
            var prefix = filter.EndsWith(".*", StringComparison.Ordinal) ? filter[..^2] : filter;
            if (prefix == "*" || type == prefix
                || (type.Length > prefix.Length && type.StartsWith(prefix, StringComparison.Ordinal) && type[prefix.Length] == '.'))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="filter"/> can be a filter entry: <c>*</c>, or dotted lower-case
    /// names of [a-z0-9-] (optionally ending in <c>.*</c>).</summary>
    public static bool IsValidFilter(string? filter)
    {
        if (string.IsNullOrEmpty(filter) || filter.Length > 200)
        {
            return false;
        }

        if (filter == "*")
        {
            return true;
        }

        var name = filter.EndsWith(".*", StringComparison.Ordinal) ? filter[..^2] : filter;
        return name.Split('.').All(part => part.Length > 0 && part.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'));
    }

    /// <summary><c>evt_</c> and the audit sequence: the same record always gives the same id.</summary>
    public static string EventId(long auditSequence) => "evt_" + auditSequence.ToString(CultureInfo.InvariantCulture);
}
