using Coffer.Audit;
using Coffer.Auth;
using Coffer.Server.Seal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>
/// /api/v1/sys/resplit: the master key's operator commands (docs/master-key.md). Starting and
/// cancelling need the master-key permission; a share is submitted without a token, as for unseal,
/// since the share itself is the holder's credential and holders need no Coffer account.
/// </summary>
internal static class MasterKeyEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/sys/resplit").WithTags("System");
        group.MapGet("", StatusAsync).AllowAnonymous().WithSummary("The re-split of the unseal shares in progress, if any (no token)");
        group.MapPost("", StartAsync).RequirePermission(Permissions.MasterKey).WithAuditAction(AuditActions.SealResplitStart)
            .WithSummary("Start a re-split of the unseal shares into new shares and threshold, optionally each encrypted to an OpenPGP key");
        group.MapPost("/share", SubmitAsync).AllowAnonymous().WithAuditAction(AuditActions.SealResplitShare)
            .WithSummary("Submit one current share to the re-split; the one that reaches the threshold is answered the new shares (no token)");
        group.MapDelete("", CancelAsync).RequirePermission(Permissions.MasterKey).WithAuditAction(AuditActions.SealResplitCancel)
            .WithSummary("Cancel the re-split in progress and discard the shares given to it");
    }

    private static async Task<Ok<ResplitView>> StatusAsync(SealManager seal, CancellationToken ct) =>
        TypedResults.Ok(View(await seal.ResplitStatusAsync(ct)));

    private static async Task<Results<Ok<ResplitView>, ProblemHttpResult>> StartAsync(ResplitRequest request, SealManager seal, TimeProvider time, CancellationToken ct)
    {
        if (request.Shares is < 1 or > 255 || request.Threshold < 1 || request.Threshold > request.Shares)
        {
            return Problems.BadRequest("shares must be 1 to 255 and threshold 1 to shares.");
        }

        var holders = ShareHolderKeys.Parse(request.PgpKeys, request.Shares, time.GetUtcNow());
        return TypedResults.Ok(View(await seal.StartResplitAsync(request.Shares, request.Threshold, holders, ct)));
    }

    private static async Task<Results<Ok<ResplitView>, ProblemHttpResult>> SubmitAsync(ResplitShareRequest request, SealManager seal, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.Nonce) || string.IsNullOrWhiteSpace(request.Share))
        {
            return Problems.BadRequest("nonce and share are required.");
        }

        return TypedResults.Ok(View(await seal.SubmitResplitShareAsync(request.Nonce.Trim(), request.Share.Trim(), ct)));
    }

    private static async Task<Ok<ResplitView>> CancelAsync(SealManager seal, CancellationToken ct) =>
        TypedResults.Ok(View(await seal.CancelResplitAsync(ct)));

    private static ResplitView View(ResplitProgress p) => new(p.InProgress, p.Nonce, p.Shares, p.Threshold, p.Required, p.Progress, p.NewShares, p.PgpFingerprints,
        p.OldSharesWereTheMasterKey
            ? "The old shares can no longer unseal Coffer, but they were split from the master key itself (a data directory from before the unseal key): run `coffer rekey` so that they hold nothing of use."
            : null);
}
