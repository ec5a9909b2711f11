using Coffer.Audit;
using Coffer.Auth;
using Coffer.Server.Seal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>
/// /api/v1/sys/resplit: new shares, or a move between the shamir and pkcs11 seals, with the master
/// key kept (docs/master-key.md). Starting and
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

    private static async Task<Results<Ok<ResplitView>, ProblemHttpResult>> StartAsync(
        ResplitRequest request, SealManager seal, Hosting.CofferOptions options, TimeProvider time, CancellationToken ct)
    {
        var target = request.Seal ?? SealKinds.Shamir;
        if (target == SealKinds.Pkcs11)
        {
            if (request.Shares != 0 || request.Threshold != 0 || request.PgpKeys is { Count: > 0 })
            {
                return Problems.BadRequest("The pkcs11 seal has no shares: give no shares, threshold or pgpKeys with seal 'pkcs11'.");
            }

            return TypedResults.Ok(View(await seal.StartResplitAsync(target, 0, 0, null, options.Pkcs11SealKeyLabel, ct)));
        }

        if (target != SealKinds.Shamir)
        {
            return Problems.BadRequest($"seal must be 'shamir' or 'pkcs11', not '{target}'.");
        }

        if (request.Shares is < 1 or > 255 || request.Threshold < 1 || request.Threshold > request.Shares)
        {
            return Problems.BadRequest("shares must be 1 to 255 and threshold 1 to shares.");
        }

        var holders = ShareHolderKeys.Parse(request.PgpKeys, request.Shares, time.GetUtcNow());
        return TypedResults.Ok(View(await seal.StartResplitAsync(target, request.Shares, request.Threshold, holders, options.Pkcs11SealKeyLabel, ct)));
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

    private static ResplitView View(ResplitProgress p) => new(p.InProgress, p.Nonce, p.Seal, p.Shares, p.Threshold, p.Required, p.Progress, p.NewShares, p.PgpFingerprints,
        Warning(p), RekeyEndpoints.Of(p));

    private static string? Warning(ResplitProgress p)
    {
        var warnings = new List<string>();
        if (p.SealMoved)
        {
            warnings.Add($"The master key is now kept by the {p.Seal} seal: set Seal to '{p.Seal}' in every node's configuration before its next start (a node refuses to start on a database whose seal its configuration does not name).");
        }

        if (p.Unfinished is { } unfinished)
        {
            warnings.Add(unfinished);
        }

        if (p.OldSharesWereTheMasterKey && !p.IsRekey)
        {
            warnings.Add("The old shares can no longer unseal Coffer, but they were split from the master key itself (a data directory from before the unseal key): destroy them; only a new master key would make them worthless.");
        }

        return warnings.Count == 0 ? null : string.Join(' ', warnings);
    }
}
