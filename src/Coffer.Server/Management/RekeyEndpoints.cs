using Coffer.Audit;
using Coffer.Auth;
using Coffer.Server.Seal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>
/// /api/v1/sys/rekey: a new master key, and everything sealed under the old one sealed again
/// (docs/master-key.md, "coffer rekey"). The dev and pkcs11 seals rekey in the call; the shamir seal
/// starts a re-split session whose quorum rekeys (the shares go to /sys/resplit/share). A call when a
/// rekey stopped past its switch finishes it, for every seal, without shares.
/// </summary>
internal static class RekeyEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/sys/rekey").WithTags("System");
        group.MapGet("", StatusAsync).RequirePermission(Permissions.MasterKey).WithSummary("Where a rekey of the master key stands");
        group.MapPost("", RekeyAsync).RequirePermission(Permissions.MasterKey).WithAuditAction(AuditActions.SealRekey)
            .WithSummary("Rekey the master key (dev, pkcs11), start a shamir rekey's share session, or finish a rekey interrupted past its switch");
    }

    private static async Task<Ok<RekeyView>> StatusAsync(SealManager seal, CancellationToken ct)
    {
        var session = await seal.ResplitStatusAsync(ct);
        return TypedResults.Ok(session is { InProgress: true, IsRekey: true }
            ? AwaitingShares(session)
            : new RekeyView(Phase(await seal.RekeyPhaseAsync(ct)), false, false, 0, 0, null, 0, 0, null));
    }

    private static async Task<Results<Ok<RekeyView>, ProblemHttpResult>> RekeyAsync(
        RekeyRequest? request, SealManager seal, Hosting.CofferOptions options, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        request ??= new RekeyRequest();
        var kind = await seal.Storage.System.GetSettingAsync(SettingNames.SealKind, ct);
        if (kind is null)
        {
            return Problems.Conflict("Coffer is not initialised; run 'coffer init' first.");
        }

        var outer = await RekeyOuterLayer.ForAsync(kind, seal, options, ct);
        var withShares = request.Shares != 0 || request.Threshold != 0 || request.PgpKeys is { Count: > 0 };
        if (!outer.NeedsShares || await seal.RekeyPhaseAsync(ct) == RekeyPhase.Switched)
        {
            if (withShares)
            {
                return Problems.BadRequest(outer.NeedsShares
                    ? "This rekey is past its switch: the new shares were given then. Give no shares, threshold or pgpKeys to finish it."
                    : $"The {kind} seal has no shares: give no shares, threshold or pgpKeys.");
            }

            return TypedResults.Ok(Done(await seal.RekeyAsync(outer, ManagementAudit.Actor(http), ct)));
        }

        if (request.Shares is < 1 or > 255 || request.Threshold < 1 || request.Threshold > request.Shares)
        {
            return Problems.BadRequest("A rekey of the shamir seal makes new shares: shares must be 1 to 255 and threshold 1 to shares.");
        }

        var holders = ShareHolderKeys.Parse(request.PgpKeys, request.Shares, time.GetUtcNow());
        return TypedResults.Ok(AwaitingShares(await seal.StartRekeyAsync(request.Shares, request.Threshold, holders, outer, ManagementAudit.Actor(http), ct)));
    }

    /// <summary>The rekey part of a re-split session's answer, or null when the session is no rekey.</summary>
    public static RekeyView? Of(ResplitProgress p) => !p.IsRekey ? null
        : p.InProgress ? AwaitingShares(p)
        : p.Rekeyed is { } done ? Done(done)
        : new RekeyView(Phase(RekeyPhase.Switched), false, false, 0, 0, null, 0, 0, p.Unfinished);

    private static RekeyView AwaitingShares(ResplitProgress p) => new("awaiting-shares", false, false, 0, 0, p.Nonce, p.Required, p.Progress,
        $"Each holder of a current share gives it with `coffer resplit share --nonce {p.Nonce}`; the share that reaches {p.Required} rekeys.");

    private static RekeyView Done(RekeyResult r) => new(Phase(RekeyPhase.None), true, r.Resumed, r.Resealed, r.Unopenable, null, 0, 0,
        r.Unopenable == 0 ? null : $"{r.Unopenable} stored values open under neither master key (corrupt or tampered); they were left as they were.");

    private static string Phase(RekeyPhase phase) => phase switch
    {
        RekeyPhase.Prepared => "prepared",
        RekeyPhase.Switched => "switched",
        _ => "none",
    };
}
