using Coffer.Audit;
using Coffer.Auth;
using Coffer.KillSwitches;
using Coffer.Policies;
using Coffer.Server.Management;
using Coffer.Server.Services;
using Coffer.Storage;
using Microsoft.AspNetCore.Http;

namespace Coffer.Server.Approvals.Commands;

internal sealed record EngageKillSwitchCommand(KillSwitchScope SwitchScope, string? Value, string Reason) : ApprovedCommand
{
    public override string Permission => Permissions.KillSwitchWrite;

    public override string AuditAction => KillSwitchEndpoints.EngageAction;

    public override bool RunsWhenUnaudited => true;

    public override FingerprintScope Scope => new(KillSwitches: true);

    public override async Task<IResult> RunAsync(CommandServices services, Actor requester, CancellationToken ct) =>
        KillSwitchEndpoints.Engaged(await services.KillSwitches.EngageAsync(SwitchScope, Value, Reason, requester, ct));
}

internal sealed record ReleaseKillSwitchCommand(string Id) : ApprovedCommand
{
    public override string Permission => Permissions.KillSwitchWrite;

    public override string AuditAction => KillSwitchEndpoints.ReleaseAction;

    public override FingerprintScope Scope => new(KillSwitches: true);

    public override async Task<IResult> RunAsync(CommandServices services, Actor requester, CancellationToken ct) =>
        TypedResults.Ok(KillSwitchEndpoints.View(await services.KillSwitches.ReleaseAsync(Id, requester, ct)));
}

/// <summary>Sets (<paramref name="Document"/>) or clears (null) the access rules of a key store or key.</summary>
internal sealed record AccessRulesCommand(string RuleScope, string ScopeId, AccessPolicyDocument? Document) : ApprovedCommand
{
    public override string Permission => Permissions.PoliciesWrite;

    public override string AuditAction => Document is null ? AuditActions.PolicyClear : AuditActions.PolicySet;

    public override string? KeyStoreId => RuleScope == PolicyScopes.KeyStore ? ScopeId : null;

    public override string? KeyId => RuleScope == PolicyScopes.Key ? ScopeId : null;

    public override async Task<IResult> RunAsync(CommandServices services, Actor requester, CancellationToken ct) =>
        TypedResults.Ok(PolicyEndpoints.View(Document is null
            ? await services.AccessRules.ClearAsync(RuleScope, ScopeId, requester, ct)
            : await services.AccessRules.SetAsync(RuleScope, ScopeId, Document, requester, ct)));
}

/// <summary>Defines (<paramref name="Regions"/>) or deletes (null) a user-defined region set.</summary>
internal sealed record RegionSetCommand(string Name, IReadOnlyList<string>? Regions) : ApprovedCommand
{
    public override string Permission => Permissions.PoliciesWrite;

    public override string AuditAction => Regions is null ? AuditActions.RegionSetDelete : AuditActions.RegionSetPut;

    public override FingerprintScope Scope => new(RegionSet: Name);

    public override async Task<IResult> RunAsync(CommandServices services, Actor requester, CancellationToken ct)
    {
        if (Regions is null)
        {
            await services.RegionSets.DeleteAsync(Name, ct);
            return TypedResults.NoContent();
        }

        return RegionSetEndpoints.Stored(await services.RegionSets.PutAsync(Name, Regions, ct));
    }
}

/// <summary>Creates or replaces (<paramref name="Request"/>) or deletes (null) a quorum policy.</summary>
internal sealed record QuorumPolicyCommand(string Name, QuorumPolicyRequest? Request) : ApprovedCommand
{
    public override string Permission => Permissions.QuorumWrite;

    public override string AuditAction => Request is null ? AuditActions.QuorumDelete : AuditActions.QuorumSet;

    public override FingerprintScope Scope => new(QuorumPolicies: true);

    public override async Task<IResult> RunAsync(CommandServices services, Actor requester, CancellationToken ct)
    {
        if (Request is null)
        {
            await services.QuorumPolicies.DeleteAsync(Name, ct);
            return TypedResults.NoContent();
        }

        return TypedResults.Ok(ApprovalViews.Of(await services.QuorumPolicies.PutAsync(Name, Request, requester, ct)));
    }
}
