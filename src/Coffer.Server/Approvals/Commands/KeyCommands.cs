using Coffer.Audit;
using Coffer.Auth;
using Coffer.Keys;
using Coffer.Server.Management;
using Coffer.Server.Services;
using Microsoft.AspNetCore.Http;

namespace Coffer.Server.Approvals.Commands;

internal sealed record DeleteKeyStoreCommand(string Id) : ApprovedCommand
{
    public override string Permission => Permissions.KeyStoresWrite;

    public override string AuditAction => AuditActions.KeyStoreDelete;

    public override string? KeyStoreId => Id;

    public override async Task<IResult> RunAsync(CommandServices services, Actor requester, CancellationToken ct)
    {
        await services.KeyStores.DeleteAsync(Id, ct);
        return TypedResults.NoContent();
    }
}

internal sealed record AddCredentialCommand(string Id) : ApprovedCommand
{
    public override string Permission => Permissions.CredentialsWrite;

    public override string AuditAction => AuditActions.CredentialAdd;

    public override string? KeyStoreId => Id;

    public override async Task<IResult> RunAsync(CommandServices services, Actor requester, CancellationToken ct) =>
        CredentialEndpoints.Added(await services.KeyStores.AddCredentialAsync(Id, ct));
}

internal sealed record RevokeCredentialCommand(string Id, string CredentialId) : ApprovedCommand
{
    public override string Permission => Permissions.CredentialsWrite;

    public override string AuditAction => AuditActions.CredentialRevoke;

    public override string? KeyStoreId => Id;

    public override async Task<IResult> RunAsync(CommandServices services, Actor requester, CancellationToken ct)
    {
        await services.KeyStores.RevokeCredentialAsync(Id, CredentialId, ct);
        return TypedResults.NoContent();
    }
}

internal sealed record DisableKeyCommand(string Key) : ApprovedCommand
{
    public override string Permission => Permissions.KeysWrite;

    public override string AuditAction => AuditActions.KeyDisable;

    public override string? KeyId => Key;

    public override async Task<IResult> RunAsync(CommandServices services, Actor requester, CancellationToken ct) =>
        TypedResults.Ok(KeyEndpoints.View(await services.Keys.SetEnabledAsync(Key, false, ct), services.Time.GetUtcNow()));
}

internal sealed record ScheduleKeyDestructionCommand(string Key, TimeSpan WaitingPeriod) : ApprovedCommand
{
    public override string Permission => Permissions.KeysDestroy;

    public override string AuditAction => AuditActions.KeyScheduleDestruction;

    public override string? KeyId => Key;

    public override async Task<IResult> RunAsync(CommandServices services, Actor requester, CancellationToken ct) =>
        TypedResults.Ok(KeyEndpoints.View(await services.Lifecycle.ScheduleKeyDestructionAsync(Key, WaitingPeriod, ct), services.Time.GetUtcNow()));
}

internal sealed record ScheduleVersionDestructionCommand(string Key, int Version, TimeSpan WaitingPeriod) : ApprovedCommand
{
    public override string Permission => Permissions.KeysDestroy;

    public override string AuditAction => KeyLifecycleEndpoints.ScheduleVersionDestructionAction;

    public override string? KeyId => Key;

    public override int? KeyVersion => Version;

    public override async Task<IResult> RunAsync(CommandServices services, Actor requester, CancellationToken ct) =>
        TypedResults.Ok(KeyEndpoints.View(
            await services.Lifecycle.ApplyAsync(Key, Version, KeyVersionAction.ScheduleDestruction, WaitingPeriod, requester, ct), services.Time.GetUtcNow()));
}
