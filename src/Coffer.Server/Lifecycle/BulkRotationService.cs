using Coffer.Audit;
using Coffer.Crypto;
using Coffer.Keys;
using Coffer.Server.Audit;
using Coffer.Server.KeyStores;
using Coffer.Server.Keys;
using Coffer.Server.Seal;
using Coffer.Server.Services;
using Coffer.Storage;

namespace Coffer.Server.Lifecycle;

/// <summary>
/// "One-click rotation across key stores": a filter picks the keys, and each rotates on its own
/// through <see cref="KeyRotator"/>, the single rotation's path, as its own audited change (a
/// <c>key.rotate</c> request and outcome per key). One failing key does not stop the others; a dry
/// run only says what would rotate.
/// </summary>
internal sealed class BulkRotationService(SealManager seal, AuditLog audit, TimeProvider time)
{
    public const int MaxKeyIds = 1000;

    private const int PageSize = 1000;

    private const string AuditDown = "The audit log could not record this rotation, so it was not made.";

    /// <summary>Rotates (or, with <see cref="BulkRotation.DryRun"/>, lists) every key the filter selects, in id order.</summary>
    public async Task<IReadOnlyList<BulkRotationItem>> RotateAsync(BulkRotation request, Actor actor, CancellationToken ct)
    {
        var filtered = request.KeyStoreId is not null || request.Tag is not null || request.KeyIds is not null || request.NamePrefix is not null;
        if (filtered == request.All)
        {
            throw new InvalidRequestException("Say which keys to rotate: keyStoreId, tag, keyIds and/or namePrefix, or all: true for every key (not both).");
        }

        if (request.Tag is "" || request.NamePrefix is "" || request.KeyIds is { Count: 0 or > MaxKeyIds })
        {
            throw new InvalidRequestException($"tag and namePrefix must not be empty, and keyIds holds 1 to {MaxKeyIds} ids.");
        }

        var storage = seal.Storage;
        if (request.KeyStoreId is not null && await storage.KeyStores.GetKeyStoreAsync(request.KeyStoreId, ct) is null)
        {
            throw KeyStoreService.KeyStoreNotFound(request.KeyStoreId);
        }

        var matched = await MatchAsync(storage, request, ct);
        foreach (var id in request.KeyIds ?? [])
        {
            if (!matched.Unfiltered.Contains(id) && await storage.Keys.GetKeyAsync(id, ct) is null)
            {
                throw KeyService.KeyNotFound(id);
            }
        }

        var items = new List<BulkRotationItem>(matched.Keys.Count);
        var auditDown = false;
        foreach (var key in matched.Keys)
        {
            items.Add(await RotateOneAsync(key, request.DryRun, actor, auditDown, ct));
            auditDown |= items[^1].Error == AuditDown;
        }

        return items;
    }

    private async Task<BulkRotationItem> RotateOneAsync(ManagedKey key, bool dryRun, Actor actor, bool auditDown, CancellationToken ct)
    {
        var storage = seal.Storage;
        BulkRotationItem Item(BulkRotationOutcome outcome, int? to = null, string? error = null) => new(key, to, outcome, error);

        if (KeyDestruction.Frozen(key) is { } frozen)
        {
            return Item(BulkRotationOutcome.Skipped, error: frozen);
        }

        if (dryRun)
        {
            return Item(BulkRotationOutcome.WouldRotate, (await storage.Keys.ListVersionsAsync(key.Id, ct)).Max(v => v.Version) + 1);
        }

        if (auditDown)
        {
            return Item(BulkRotationOutcome.Failed, error: AuditDown);
        }

        // Each key is its own change: recorded as requested before it is made (fail closed), as a
        // single rotation is by ManagementAudit.
        var record = actor.Event(AuditActions.KeyRotate) with { KeyId = key.Id, KeyStore = key.KeyStoreId, Details = "bulk rotation" };
        try
        {
            await audit.AppendAsync(record with { Outcome = AuditOutcome.Requested }, ct);
        }
        catch (AuditUnavailableException)
        {
            return Item(BulkRotationOutcome.Failed, error: AuditDown);
        }

        BulkRotationItem result;
        try
        {
            var found = await KeyRotator.RotateAsync(seal, key.Id, key.CurrentVersion, actor.Name, time.GetUtcNow(), activatesAt: null, ct);
            var rotated = found ? await storage.Keys.GetKeyAsync(key.Id, ct) : null;
            result = rotated is null
                ? Item(BulkRotationOutcome.Failed, error: "The key no longer exists.")
                : Item(BulkRotationOutcome.Rotated, rotated.CurrentVersion);
        }
        catch (Exception e) when (e is ConflictException or CryptoException or SealedException or SealStateException
            or CryptoBackendUnavailableException)
        {
            // These messages are written for callers and carry no secrets (as ProblemMiddleware shows them).
            result = Item(BulkRotationOutcome.Failed, error: e is CryptoBackendUnavailableException ? Refusals.BackendUnavailable : e.Message);
        }

        try
        {
            await audit.AppendAsync(result.Outcome == BulkRotationOutcome.Rotated
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
    private static async Task<(List<ManagedKey> Keys, HashSet<string> Unfiltered)> MatchAsync(ICofferStorage storage, BulkRotation request, CancellationToken ct)
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
}

/// <summary>Which keys a bulk rotation takes: every filter given must match (at least one, or <paramref name="All"/>).</summary>
internal sealed record BulkRotation(string? KeyStoreId, string? Tag, IReadOnlyList<string>? KeyIds, string? NamePrefix, bool All, bool DryRun);

internal enum BulkRotationOutcome
{
    WouldRotate,
    Rotated,
    Failed,
    Skipped,
}

/// <summary>What happened to one key: <paramref name="ToVersion"/> is its new current version, or the one
/// a dry run would make; <paramref name="Error"/> says why it failed or was skipped.</summary>
internal sealed record BulkRotationItem(ManagedKey Key, int? ToVersion, BulkRotationOutcome Outcome, string? Error);
