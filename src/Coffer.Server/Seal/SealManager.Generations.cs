using System.Security.Cryptography;
using Coffer.Crypto;

namespace Coffer.Server.Seal;

/// <summary>
/// How a node follows a rekey (docs/master-key.md, "coffer rekey"): at every unseal and key ring
/// reload it reads the check value and the rekey's two links, <c>master.next</c> (the next key sealed
/// under the one it replaces) and <c>master.retired</c> (the replaced key sealed under the next), opens
/// each link with a key it holds, and makes current the key that opens the check value. So a node that
/// holds either generation, having reloaded at any time before the retire, ends on the new key, and
/// keeps the other for as long as a link says some row may need it.
/// </summary>
internal sealed partial class SealManager
{
    /// <summary>Sets <paramref name="keys"/> to what storage says now; false, with nothing changed,
    /// when none of the keys held (or linked from them) opens the check value. Disposes the keys it drops.</summary>
    private async Task<bool> FollowGenerationsAsync(MasterKeyGenerations keys, CancellationToken ct)
    {
        var system = storage.System;
        var check = await system.GetSettingAsync(SettingNames.MasterCheck, ct);
        var next = await system.GetSettingAsync(SettingNames.MasterNext, ct);
        var retired = await system.GetSettingAsync(SettingNames.MasterRetired, ct);
        List<MasterKey> held = [keys.Current, .. keys.Others];
        var before = held.Count;
        MasterKey? nextKey = null, retiredKey = null;

        // Twice: a node holding only the new key opens master.retired first, then master.next with it.
        for (var round = 0; round < 2; round++)
        {
            nextKey ??= OpenLink(held, next, SealPurpose.MasterNext);
            retiredKey ??= OpenLink(held, retired, SealPurpose.MasterRetired);
        }

        var current = check is null ? null : held.FirstOrDefault(k => k.MatchesCheckValue(Convert.FromBase64String(check)));
        if (current is null)
        {
            foreach (var added in held.Skip(before))
            {
                added.Dispose();
            }

            return false;
        }

        var others = new[] { nextKey, retiredKey }.OfType<MasterKey>().Where(k => k != current).Distinct().ToList();
        keys.Set(current, others);
        foreach (var dropped in held.Where(k => k != current && !others.Contains(k)))
        {
            dropped.Dispose();
        }

        return true;
    }

    // The key a link holds, opened with any key in held: the one already held when it is the same key,
    // else a new one added to held. Null without the link, or when no held key opens it (yet).
    private static MasterKey? OpenLink(List<MasterKey> held, string? link, string purpose)
    {
        if (link is null)
        {
            return null;
        }

        var sealedKey = Convert.FromBase64String(link);
        foreach (var key in held.ToList())
        {
            byte[] raw;
            try
            {
                raw = key.Open(purpose, string.Empty, sealedKey);
            }
            catch (CryptoException)
            {
                continue;
            }

            try
            {
                var same = held.FirstOrDefault(k => SameKey(k, raw));
                if (same is not null)
                {
                    return same;
                }

                var opened = MasterKey.FromBytes(raw);
                held.Add(opened);
                return opened;
            }
            finally
            {
                CryptographicOperations.ZeroMemory(raw);
            }
        }

        return null;
    }

    private static bool SameKey(MasterKey key, byte[] raw)
    {
        var exported = key.Export();
        try
        {
            return CryptographicOperations.FixedTimeEquals(exported, raw);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(exported);
        }
    }

    private static void DisposeAll(MasterKeyGenerations keys)
    {
        foreach (var key in keys.Others.Prepend(keys.Current))
        {
            key.Dispose();
        }
    }

    /// <summary>The audit checkpoint key: the one a rekey kept (sealed under the current generation),
    /// else the one derived from the current master key, as before any rekey. The caller owns it.</summary>
    private async Task<byte[]> AuditCheckpointKeyAsync(MasterKeyGenerations keys, CancellationToken ct) =>
        await storage.System.GetSettingAsync(SettingNames.AuditCheckpointKey, ct) is { } kept
            ? keys.Open(SealPurpose.AuditCheckpointKey, string.Empty, Convert.FromBase64String(kept))
            : keys.Current.DeriveMacKey(MacPurpose.AuditCheckpoint);
}
