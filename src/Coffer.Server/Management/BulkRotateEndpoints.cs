using Coffer.Audit;
using Coffer.Crypto;
using Coffer.Keys;
using Coffer.Server.Audit;
using Coffer.Server.Lifecycle;
using Coffer.Server.Seal;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>
/// POST /api/v1/keys/rotate: "one-click rotation across key stores". A filter (key store,
/// tag, key ids, name prefix, or all) picks the keys; <c>dryRun</c> lists what would rotate and changes
/// nothing. Otherwise each key rotates on its own, through the same code as a single rotation, and is
/// its own audited change (a <c>key.rotate</c> request and outcome per key, besides the record of the
/// bulk call); one failing key does not stop the others, and the answer says per key what happened.
/// </summary>
internal static class BulkRotateEndpoints
{
    private const int MaxKeyIds = 1000;
    private const int PageSize = 1000;

    public static void Map(RouteGroupBuilder keys) =>
        keys.MapPost("/rotate", RotateManyAsync).WithAuditAction(AuditActions.KeyRotateMany)
            .WithSummary("Rotate every key matching a filter (keyStoreId, tag, keyIds, namePrefix; all given must match, or all: true); dryRun: true lists what would rotate and changes nothing");

    private static async Task<Results<Ok<BulkRotateView>, ProblemHttpResult>> RotateManyAsync(
        BulkRotateRequest request, HttpContext http, SealManager seal, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var storage = seal.Storage;
        var filtered = request.KeyStoreId is not null || request.Tag is not null || request.KeyIds is not null || request.NamePrefix is not null;
        if (filtered == request.All)
        {
            return Problems.BadRequest("Say which keys to rotate: keyStoreId, tag, keyIds and/or namePrefix, or all: true for every key (not both).");
        }

        if (request.Tag is "" || request.NamePrefix is "" || request.KeyIds is { Count: 0 or > MaxKeyIds })
        {
            return Problems.BadRequest($"tag and namePrefix must not be empty, and keyIds holds 1 to {MaxKeyIds} ids.");
        }

        if (request.KeyStoreId is not null && await storage.KeyStores.GetKeyStoreAsync(request.KeyStoreId, ct) is null)
        {
            return KeyStoreEndpoints.NotFound(request.KeyStoreId);
        }

        var matched = await MatchAsync(storage, request, ct);
        foreach (var id in request.KeyIds ?? [])
        {
            if (!matched.Unfiltered.Contains(id) && await storage.Keys.GetKeyAsync(id, ct) is null)
            {
                return KeyEndpoints.NotFound(id);
            }
        }

        var items = new List<BulkRotateItem>(matched.Keys.Count);
        var auditDown = false;
        foreach (var key in matched.Keys)
        {
            items.Add(await RotateOneAsync(key, request.DryRun, http, seal, audit, time, auditDown, ct));
            auditDown |= items[^1].Error == AuditDown;
        }

        return TypedResults.Ok(new BulkRotateView(request.DryRun, items.Count,
            items.Count(i => i.Outcome == Outcomes.Rotated), items.Count(i => i.Outcome == Outcomes.Failed), items.Count(i => i.Outcome == Outcomes.Skipped), items));
    }

    private const string AuditDown = "The audit log could not record this rotation, so it was not made.";

    private static async Task<BulkRotateItem> RotateOneAsync(
        ManagedKey key, bool dryRun, HttpContext http, SealManager seal, AuditLog audit, TimeProvider time, bool auditDown, CancellationToken ct)
    {
        var storage = seal.Storage;
        BulkRotateItem Item(string outcome, int? to = null, string? error = null) =>
            new(key.Id, key.ExternalId, key.KeyStoreId, key.CurrentVersion, to, outcome, error);

        if (KeyDestruction.Frozen(key) is { } frozen)
        {
            return Item(Outcomes.Skipped, error: frozen);
        }

        if (dryRun)
        {
            return Item(Outcomes.WouldRotate, (await storage.Keys.ListVersionsAsync(key.Id, ct)).Max(v => v.Version) + 1);
        }

        if (auditDown)
        {
            return Item(Outcomes.Failed, error: AuditDown);
        }

        // Each key is its own change: recorded as requested before it is made (fail closed), as a
        // single rotation is by ManagementAudit.
        var record = ManagementAudit.Caller(http, AuditActions.KeyRotate) with { KeyId = key.Id, KeyStore = key.KeyStoreId, Details = "bulk rotation" };
        try
        {
            await audit.AppendAsync(record with { Outcome = AuditOutcome.Requested }, ct);
        }
        catch (AuditUnavailableException)
        {
            return Item(Outcomes.Failed, error: AuditDown);
        }

        BulkRotateItem result;
        try
        {
            var found = await KeyRotator.RotateAsync(seal, key.Id, key.CurrentVersion, TokenAuthentication.CallerId(http), time.GetUtcNow(), activatesAt: null, ct);
            var rotated = found ? await storage.Keys.GetKeyAsync(key.Id, ct) : null;
            result = rotated is null
                ? Item(Outcomes.Failed, error: "The key no longer exists.")
                : Item(Outcomes.Rotated, rotated.CurrentVersion);
        }
        catch (Exception e) when (e is ConflictException or CryptoException or SealedException or SealStateException
            or CryptoBackendUnavailableException)
        {
            // These messages are written for callers and carry no secrets (as ProblemMiddleware shows them).
            result = Item(Outcomes.Failed, error: e is CryptoBackendUnavailableException ? Problems.BackendUnavailableDetail : e.Message);
        }

        try
        {
            await audit.AppendAsync(result.Outcome == Outcomes.Rotated
                ? record with { KeyVersion = result.ToVersion, Details = $"bulk rotation: version {key.CurrentVersion} -> {result.ToVersion}" }
                : record with { Outcome = AuditOutcome.Error, ErrorName = "Rotation failed", Reason = result.Error }, ct);
        }
        catch (AuditUnavailableException)
        {
            // The change was made and its request is recorded; the bulk call's own outcome record
            // (ManagementAudit) answers 503 if the log is still down.
        }

        return result;
    }

    /// <summary>The keys the filter selects, in id order; <c>Unfiltered</c> holds the ids found before
    /// keyIds was applied, to tell an unknown id from one the other filters excluded.</summary>
    private static async Task<(List<ManagedKey> Keys, HashSet<string> Unfiltered)> MatchAsync(ICofferStorage storage, BulkRotateRequest request, CancellationToken ct)
    {
        var wanted = request.KeyIds is null ? null : new HashSet<string>(request.KeyIds, StringComparer.Ordinal);
        var keys = new List<ManagedKey>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? after = null;
        do
        {
            var page = await storage.Keys.ListKeysAsync(new KeyQuery(request.KeyStoreId, Tag: request.Tag, After: after, Limit: PageSize), ct);
            foreach (var key in page.Keys)
            {
                seen.Add(key.Id);
                if ((wanted is null || wanted.Contains(key.Id))
                    && (request.NamePrefix is null || key.ExternalId.StartsWith(request.NamePrefix, StringComparison.Ordinal)))
                {
                    keys.Add(key);
                }
            }

            after = page.NextAfter;
        }
        while (after is not null);

        return (keys, seen);
    }

    private static class Outcomes
    {
        public const string WouldRotate = "would-rotate";
        public const string Rotated = "rotated";
        public const string Failed = "failed";
        public const string Skipped = "skipped";
    }
}
