using System.Text.Json;
using System.Text.Json.Serialization;
using Coffer.Alerts;
using Coffer.Audit;

namespace Coffer.Server.Alerts;

/// <summary>
/// The JSON body of a webhook delivery (docs/alerts.md): one lifecycle event, read from its audit
/// record. It carries ids and names only — audit records hold no secrets, and nothing else is added.
/// </summary>
/// <param name="Id"><c>evt_</c> + the audit sequence: the same event always has the same id, so a
/// receiver drops repeats by it.</param>
/// <param name="Type">The audit action (<c>key.rotate</c>, <c>key.version.deactivate</c>, ...), or the
/// action + <c>.failed</c> for a failed rotation or approved call.</param>
/// <param name="Version">The key version concerned (after a rotation: the new current version).</param>
/// <param name="Outcome"><c>ok</c>, or <c>error</c> for a failed rotation or approved call.</param>
/// <param name="Error">Why a rotation or an approved call failed, for failed ones only.</param>
/// <param name="Reason">For a failure, its reason; for an approval event, the request's reason
/// (<c>approval.request</c>) or why it ended (<c>approval.void</c>, <c>.expire</c>, <c>.interrupt</c>); for
/// <c>cluster.leader</c>, what changed ("became the leader", "stepped down: why").</param>
/// <param name="ApprovalId">The approval request (<c>apr_…</c>) of an approval event.</param>
/// <param name="Operation">The guarded operation an approval event is about (<c>key.destroy</c>, ...).</param>
/// <param name="Node">For <c>cluster.leader</c>, the node that became the leader or stepped down.</param>
public sealed record AlertEvent(
    string Id,
    string Type,
    DateTimeOffset Time,
    string? KeyStoreId,
    string? KeyId,
    int? Version,
    AlertActor Actor,
    string Outcome,
    long AuditSeq,
    string? Error = null,
    string? Reason = null,
    string? ApprovalId = null,
    string? Operation = null,
    string? Node = null)
{
    /// <summary>The event of <paramref name="record"/>, or null when it is no alert event (<see cref="AlertEventTypes.TypeOf"/>).</summary>
    public static AlertEvent? From(AuditRecord record)
    {
        var e = record.Event;
        var type = AlertEventTypes.TypeOf(e);
        if (type is null)
        {
            return null;
        }

        if (type == AuditActions.ClusterLeader)
        {
            return new AlertEvent(AlertEventTypes.EventId(record.Sequence), type, record.Time, null, null, null,
                new AlertActor(e.ActorKind, e.ActorId), AuditOutcomes.ToText(e.Outcome), record.Sequence, Reason: e.Details, Node: record.Node);
        }

        var failed = e.Outcome != AuditOutcome.Ok;
        var approvalId = string.Empty;
        var operation = string.Empty;
        var approval = e.Action.StartsWith(AlertEventTypes.ApprovalPrefix, StringComparison.Ordinal)
            && Approvals.ApprovalAudit.TryParseDetails(e.Details, out approvalId, out operation);
        return new AlertEvent(AlertEventTypes.EventId(record.Sequence), type, record.Time, e.KeyStore, e.KeyId, e.KeyVersion,
            new AlertActor(e.ActorKind, e.ActorId), AuditOutcomes.ToText(e.Outcome), record.Sequence,
            failed ? e.ErrorName : null, failed || approval ? e.Reason : null,
            approval ? approvalId : null, approval ? operation : null);
    }

    public string ToJson() => JsonSerializer.Serialize(this, AlertJson.Default.AlertEvent);
}

/// <param name="Kind"><c>token</c> (a management token), <c>system</c> (a scheduler), ...</param>
/// <param name="Id">The token id, never the token.</param>
public sealed record AlertActor(string? Kind, string? Id);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AlertEvent))]
public sealed partial class AlertJson : JsonSerializerContext;
