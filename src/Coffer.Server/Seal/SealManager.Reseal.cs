using System.Globalization;
using System.Security.Cryptography;
using Coffer.Audit;
using Coffer.Changes;
using Coffer.Crypto;
using Coffer.Server.Services;
using Coffer.Storage;

namespace Coffer.Server.Seal;

/// <summary>
/// Steps 3 and 4 of <c>coffer rekey</c> (docs/master-key.md, "The four steps"): every value still sealed
/// under the old master key is sealed again under the new one, each with a compare-and-set on the bytes
/// it was read with, and once none needs the old key both links are deleted. Both are idempotent, so a
/// rerun after a crash finishes what was left.
/// </summary>
internal sealed partial class SealManager
{
    // Passes of step 3 before giving up on rows that keep changing under it (each pass re-reads them).
    private const int MaxResealPasses = 5;

    // Values sealed again per hold of the seal's lock and per transaction, and the pause between two
    // chunks, long enough for a writer waiting on SQLite's lock to take it.
    private const int ResealChunk = 50;
    private static readonly TimeSpan ResealPause = TimeSpan.FromMilliseconds(20);

    // Step 3 in passes (each under the lock, re-reading the rows), then step 4 in one transaction.
    private async Task<RekeyResult> FinishRekeyAsync(RekeyOuterLayer outer, Actor actor, bool resumed, CancellationToken ct)
    {
        // The other nodes follow the switch at their reload; this node already has.
        await changes.PublishAsync(ChangeTopic.KeyRing);
        await _gate.WaitAsync(ct);
        MasterKey current;
        try
        {
            await RequireCurrentKeyLockedAsync(ct);
            current = _keys!.Current;
            await outer.AfterSwitch(current, ct);
        }
        finally
        {
            _gate.Release();
        }

        // On a shared database every live node reloads within its full reload interval; after it none
        // seals anything under the old key, so the last pass below finds every row that needs it.
        if (outer.FollowWait > TimeSpan.Zero)
        {
            await Task.Delay(outer.FollowWait, time, ct);
        }

        var total = new ResealCounts(0, 0, 0);
        for (var pass = 0; ; pass++)
        {
            var counts = await ResealPassAsync(total.Resealed, ct);
            total = new ResealCounts(total.Resealed + counts.Resealed, counts.Changed, counts.Unopenable);
            if (counts.Resealed == 0 && counts.Changed == 0)
            {
                break;
            }

            if (pass == MaxResealPasses)
            {
                throw new SealStateException($"Rows kept changing while they were sealed again ({counts.Changed} in the last pass); run `coffer rekey` again to finish.");
            }
        }

        await AuditRekeyAsync(actor, AuditActions.SealRekeyReseal, string.Create(CultureInfo.InvariantCulture,
            $"rekey re-sealed {total.Resealed} values under the new master key; {total.Unopenable} open under neither key and were left as they were"), ct);
        await RetireAsync(ct);
        await changes.PublishAsync(ChangeTopic.KeyRing);
        await AuditRekeyAsync(actor, AuditActions.SealRekeyRetire, "rekey done: the old master key retired, nothing stored opens with it", ct);
        return new RekeyResult(resumed, total.Resealed, total.Unopenable);
    }

    // One pass over every sealed value, a chunk at a time under the lock, each chunk written in one
    // transaction: this node's changes and reloads wait for a chunk, not a whole pass, and between
    // chunks the audit writer (whose wait for SQLite's write lock is short) gets its turn. A value
    // changed after it was listed fails its compare-and-set and is counted as changed, for the next pass.
    private async Task<ResealCounts> ResealPassAsync(int resealedBefore, CancellationToken ct)
    {
        var values = await storage.SealedData.ListAsync(ct);
        var total = new ResealCounts(0, 0, 0);
        var chunks = 0;
        foreach (var chunk in values.Chunk(ResealChunk))
        {
            if (chunks++ > 0)
            {
                await Task.Delay(ResealPause, time, ct);
            }

            await _gate.WaitAsync(ct);
            try
            {
                await RequireCurrentKeyLockedAsync(ct);
                var counts = await ResealLockedAsync(chunk, ct);
                total = new ResealCounts(total.Resealed + counts.Resealed, total.Changed + counts.Changed, total.Unopenable + counts.Unopenable);
            }
            finally
            {
                _gate.Release();
            }

            AfterChunkResealed?.Invoke(resealedBefore + total.Resealed);
        }

        return total;
    }

    private async Task<ResealCounts> ResealLockedAsync(SealedValue[] values, CancellationToken ct)
    {
        var keys = _keys!;
        var replacements = new List<(SealedValue, byte[])>(values.Length);
        var unopenable = 0;
        foreach (var value in values)
        {
            var (purpose, context) = PurposeAndContext(value);
            if (!keys.TryOpen(purpose, context, value.Bytes, out var plaintext, out var underCurrent))
            {
                unopenable++;
                continue;
            }

            try
            {
                if (!underCurrent)
                {
                    replacements.Add((value, keys.Current.Seal(purpose, context, plaintext)));
                }
            }
            finally
            {
                CryptographicOperations.ZeroMemory(plaintext);
            }
        }

        var resealed = replacements.Count == 0 ? 0 : await storage.SealedData.ReplaceAsync(replacements, ct);
        return new ResealCounts(resealed, replacements.Count - resealed, unopenable);
    }

    private async Task RetireAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            await RequireCurrentKeyLockedAsync(ct);
            var system = storage.System;
            var expected = new Dictionary<string, string> { [SettingNames.MasterCheck] = (await system.GetSettingAsync(SettingNames.MasterCheck, ct))! };
            foreach (var name in new[] { SettingNames.MasterNext, SettingNames.MasterRetired })
            {
                if (await system.GetSettingAsync(name, ct) is { } value)
                {
                    expected[name] = value;
                }
            }

            await ReplaceOrRefuseAsync(expected, new Dictionary<string, string?> { [SettingNames.MasterNext] = null, [SettingNames.MasterRetired] = null }, null, ct);
            await FollowGenerationsAsync(_keys!, ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static (string Purpose, string Context) PurposeAndContext(SealedValue value) => value.Kind switch
    {
        SealedValueKind.KeyMaterial => (SealPurpose.KeyMaterial, SoftwareCryptoBackend.Context(value.Id, value.Version)),
        SealedValueKind.SigV4Secret => (SealPurpose.SigV4Secret, value.Id),
        SealedValueKind.WebhookSecret => (SealPurpose.WebhookSecret, value.Id),
        SealedValueKind.ApprovalResult => (SealPurpose.ApprovalResult, value.Id),
        _ => throw new ArgumentOutOfRangeException(nameof(value), value.Kind, "Unknown kind of sealed value."),
    };

    private sealed record ResealCounts(int Resealed, int Changed, int Unopenable);
}
