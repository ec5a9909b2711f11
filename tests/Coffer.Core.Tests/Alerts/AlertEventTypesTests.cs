using Coffer.Alerts;
using Coffer.Audit;

namespace Coffer.Core.Tests.Alerts;

/// <summary>Which audit records are alert events, and which webhooks want them (docs/alerts.md).</summary>
public sealed class AlertEventTypesTests
{
    [Theory]
    [InlineData("key.rotate", AuditOutcome.Ok, "key.rotate")]
    [InlineData("key.rotate.scheduled", AuditOutcome.Ok, "key.rotate.scheduled")]
    [InlineData("key.version.expiry-warning", AuditOutcome.Ok, "key.version.expiry-warning")]
    [InlineData("key.version.destroy", AuditOutcome.Ok, "key.version.destroy")]
    [InlineData("key.create", AuditOutcome.Ok, "key.create")]
    [InlineData("key.rotate", AuditOutcome.Error, "key.rotate.failed")]
    [InlineData("key.rotate.scheduled", AuditOutcome.Error, "key.rotate.scheduled.failed")]
    [InlineData("key.rotate", AuditOutcome.Requested, null)]
    [InlineData("key.rotate", AuditOutcome.Denied, null)]
    [InlineData("key.version.deactivate", AuditOutcome.Error, null)]
    [InlineData("key.rotated-elsewhere", AuditOutcome.Error, null)]
    [InlineData("keystore.create", AuditOutcome.Ok, null)]
    [InlineData("xks.encrypt", AuditOutcome.Ok, null)]
    [InlineData("alert.webhook.create", AuditOutcome.Ok, null)]
    [InlineData("approval.request", AuditOutcome.Ok, "approval.request")]
    [InlineData("approval.interrupt", AuditOutcome.Ok, "approval.interrupt")]
    [InlineData("approval.request", AuditOutcome.Requested, null)]
    [InlineData("approval.execute", AuditOutcome.Error, "approval.execute.failed")]
    [InlineData("approval.approve", AuditOutcome.Error, null)]
    [InlineData("approvals.request", AuditOutcome.Ok, null)]
    [InlineData("cluster.leader", AuditOutcome.Ok, "cluster.leader")]
    [InlineData("cluster.leader", AuditOutcome.Error, null)]
    [InlineData("cluster.node", AuditOutcome.Ok, null)]
    [InlineData("audit.retention", AuditOutcome.Error, "audit.retention.failed")]
    [InlineData("audit.retention", AuditOutcome.Ok, null)]
    [InlineData("audit.retention", AuditOutcome.Requested, null)]
    [InlineData("audit.archive", AuditOutcome.Error, null)]
    public void A_record_is_an_event_of_its_action_when_it_changed_a_key_or_a_rotation_failed_or_it_is_an_approval_step(string action, AuditOutcome outcome, string? type)
    {
        Assert.Equal(type, AlertEventTypes.TypeOf(new AuditEvent { Action = action, Outcome = outcome }));
    }

    [Theory]
    [InlineData("", "key.rotate", true)]
    [InlineData("*", "key.version.activate", true)]
    [InlineData("key.*", "key.version.activate", true)]
    [InlineData("key.rotate", "key.rotate", true)]
    [InlineData("key.rotate", "key.rotate.scheduled", true)]
    [InlineData("key.rotate", "key.rotate.failed", true)]
    [InlineData("key.rotate.*", "key.rotate.failed", true)]
    [InlineData("key.rotate", "key.rotated", false)]
    [InlineData("key.rotate.scheduled", "key.rotate", false)]
    [InlineData("key.version", "key.version.schedule-destruction", true)]
    [InlineData("key.version,key.rotate", "key.create", false)]
    [InlineData("key.version,key.create", "key.create", true)]
    public void A_filter_matches_its_own_type_and_the_types_under_it(string filters, string type, bool matches)
    {
        Assert.Equal(matches, AlertEventTypes.Matches(filters.Split(',', StringSplitOptions.RemoveEmptyEntries), type));
    }

    [Theory]
    [InlineData("key.rotate", true)]
    [InlineData("key.version.expiry-warning", true)]
    [InlineData("key.*", true)]
    [InlineData("*", true)]
    [InlineData("Key.Rotate", false)]
    [InlineData("key..rotate", false)]
    [InlineData("key.rotate,key.create", false)]
    [InlineData("key rotate", false)]
    [InlineData("", false)]
    public void Only_dotted_lower_case_names_are_filters(string filter, bool valid)
    {
        Assert.Equal(valid, AlertEventTypes.IsValidFilter(filter));
    }

    [Fact]
    public void The_event_id_is_derived_from_the_audit_sequence()
    {
        Assert.Equal("evt_42", AlertEventTypes.EventId(42));
        Assert.Equal(AlertEventTypes.EventId(42), AlertEventTypes.EventId(42));
    }
}
