using System.Security.Cryptography;
using Coffer.Audit;
using Coffer.Crypto;
using Coffer.Server.Services;
using Coffer.Storage;

namespace Coffer.Server.Seal;

/// <summary>
/// <c>coffer rekey</c> (docs/master-key.md, "coffer rekey"): a new master key, and everything sealed
/// under the old one sealed again, in four steps that each leave a state every node (and a rerun after
/// a crash) can go on from. 1 prepare: <c>master.next</c> = the new key sealed under the old one.
/// 2 switch, one transaction: the seal's outer layer stores the new key, the check value is the new
/// key's, <c>master.retired</c> = the old key sealed under the new one, and the audit checkpoint key is
/// kept, sealed under the new key. 3 re-seal every row still under the old key, each with a
/// compare-and-set on its bytes. 4 retire: delete both links once no row needs the old key.
/// </summary>
/// <remarks>Steps 3 and 4 are in SealManager.Reseal.cs. Steps 1 and 2 run under the seal's lock, as do each pass of step 3 and step 4, so this
/// node's own changes meanwhile are sealed under the right key; XKS calls read the key ring already
/// opened and never wait for it. A shamir rekey reaches steps 1 and 2 through a re-split session
/// (<see cref="SubmitResplitShareAsync"/>), since storing the new key needs the unseal key a quorum
/// rebuilds.</remarks>
internal sealed partial class SealManager
{
    private int _rekeyRunning;

    /// <summary>Test-only fault injection: called after each chunk step 3 wrote, with the count of values
    /// sealed again so far; an exception thrown here stops the rekey there, as a crash would.</summary>
    internal Action<int>? AfterChunkResealed { get; set; }

    /// <summary>Where the rekey stands in storage.</summary>
    public async Task<RekeyPhase> RekeyPhaseAsync(CancellationToken ct = default)
    {
        var system = storage.System;
        return await system.GetSettingAsync(SettingNames.MasterRetired, ct) is not null ? RekeyPhase.Switched
            : await system.GetSettingAsync(SettingNames.MasterNext, ct) is not null ? RekeyPhase.Prepared
            : RekeyPhase.None;
    }

    /// <summary>Runs a whole rekey for a seal that needs no shares (dev, pkcs11), or finishes one past
    /// its switch for any seal.</summary>
    /// <exception cref="SealedException">Coffer is sealed.</exception>
    /// <exception cref="SealStateException">A rekey already running here, a shamir rekey not yet switched
    /// (it needs a quorum), or a step another node changed meanwhile.</exception>
    public async Task<RekeyResult> RekeyAsync(RekeyOuterLayer outer, Actor actor, CancellationToken ct = default)
    {
        if (Interlocked.Exchange(ref _rekeyRunning, 1) == 1)
        {
            throw new SealStateException("A rekey is already running on this node; `coffer rekey status` shows its phase.");
        }

        try
        {
            var resumed = true;
            await _gate.WaitAsync(ct);
            try
            {
                await RequireCurrentKeyLockedAsync(ct);
                if (await RekeyPhaseAsync(ct) != RekeyPhase.Switched)
                {
                    if (outer.NeedsShares)
                    {
                        throw new SealStateException("A rekey of the shamir seal needs a quorum of the current shares: start it with `coffer rekey --shares N --threshold M`, then each holder gives a share with `coffer resplit share --nonce`.");
                    }

                    await PrepareAndSwitchLockedAsync(outer.Settings, actor, ct);
                    resumed = false;
                }
            }
            finally
            {
                _gate.Release();
            }

            return await FinishRekeyAsync(outer, actor, resumed, ct);
        }
        finally
        {
            Volatile.Write(ref _rekeyRunning, 0);
        }
    }

    /// <summary>Steps 1 and 2, under the lock: adopts a prepared next key (a rerun after a crash) or makes
    /// one, and switches to it. Nothing is written when <paramref name="outerSettings"/> fails (an HSM
    /// unreachable) before the prepare.</summary>
    private async Task PrepareAndSwitchLockedAsync(Func<MasterKey, IReadOnlyDictionary<string, string?>> outerSettings, Actor actor, CancellationToken ct)
    {
        await RequireCurrentKeyLockedAsync(ct);
        var system = storage.System;
        var keys = _keys!;
        var old = keys.Current;
        var check = (await system.GetSettingAsync(SettingNames.MasterCheck, ct))!;
        var link = await system.GetSettingAsync(SettingNames.MasterNext, ct);
        var adopted = link is not null;
        var next = adopted ? OpenNextKey(keys, link!) : MasterKey.Generate();
        IReadOnlyDictionary<string, string?> outer;
        try
        {
            outer = outerSettings(next);
        }
        catch
        {
            if (!keys.Others.Contains(next))
            {
                next.Dispose();
            }

            throw;
        }

        if (!adopted)
        {
            var raw = next.Export();
            try
            {
                link = Convert.ToBase64String(old.Seal(SealPurpose.MasterNext, string.Empty, raw));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(raw);
            }

            // A fresh check value under the same key: the compare-and-set on it makes a second prepare
            // started from the same state (another node, another operator) fail instead of overwriting this one.
            var fresh = Convert.ToBase64String(old.CreateCheckValue());
            await ReplaceOrRefuseAsync(
                new Dictionary<string, string> { [SettingNames.MasterCheck] = check },
                new Dictionary<string, string?> { [SettingNames.MasterNext] = link, [SettingNames.MasterCheck] = fresh },
                next, ct);
            check = fresh;
        }

        if (!keys.Others.Contains(next))
        {
            keys.Set(old, [.. keys.Others, next]);
        }

        await AuditRekeyAsync(actor, AuditActions.SealRekeyPrepare, adopted ? "rekey prepared: the next master key prepared earlier adopted" : "rekey prepared: a new master key, sealed under the current one", ct);

        var audit = await AuditCheckpointKeyAsync(keys, ct);
        var oldRaw = old.Export();
        try
        {
            var values = new Dictionary<string, string?>(outer)
            {
                [SettingNames.MasterCheck] = Convert.ToBase64String(next.CreateCheckValue()),
                [SettingNames.MasterRetired] = Convert.ToBase64String(next.Seal(SealPurpose.MasterRetired, string.Empty, oldRaw)),
                [SettingNames.AuditCheckpointKey] = Convert.ToBase64String(next.Seal(SealPurpose.AuditCheckpointKey, string.Empty, audit)),
            };
            await ReplaceOrRefuseAsync(
                new Dictionary<string, string> { [SettingNames.MasterCheck] = check, [SettingNames.MasterNext] = link! },
                values, null, ct);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(oldRaw);
            CryptographicOperations.ZeroMemory(audit);
        }

        if (!await FollowGenerationsAsync(keys, ct))
        {
            throw new SealStateException("The master key changed again while this rekey switched; this node must be unsealed again.");
        }

        await AuditRekeyAsync(actor, AuditActions.SealRekeySwitch, "rekey switched: the seal stores the new master key, which seals everything new; the old one stays until no row needs it", ct);
    }

    // The next key: the instance this node already holds when it followed the prepare, else opened now.
    private static MasterKey OpenNextKey(MasterKeyGenerations keys, string link)
    {
        byte[] raw;
        try
        {
            raw = keys.Open(SealPurpose.MasterNext, string.Empty, Convert.FromBase64String(link));
        }
        catch (CryptoException)
        {
            throw new SealStateException("The prepared next master key (master.next) does not open with this node's master key; unseal this node again, then rerun `coffer rekey`.");
        }

        try
        {
            return keys.Others.FirstOrDefault(k => SameKey(k, raw)) ?? MasterKey.FromBytes(raw);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
    }

    // A compare-and-set that lost to another node's step writes nothing and says so; a key made for it is dropped.
    private async Task ReplaceOrRefuseAsync(Dictionary<string, string> expected, Dictionary<string, string?> values, MasterKey? madeForIt, CancellationToken ct)
    {
        try
        {
            await storage.System.ReplaceSettingsAsync(expected, values, ct);
        }
        catch (ConflictException)
        {
            madeForIt?.Dispose();
            throw new SealStateException("The master key's settings changed meanwhile (another node or operator is rekeying or re-splitting); nothing was written. `coffer rekey status` shows where it stands.");
        }
    }

    // Unsealed, and holding as current the key that opens master.check now: a node that has not yet
    // followed another node's switch would otherwise prepare from, or seal rows again under, a key no
    // longer in force.
    private async Task RequireCurrentKeyLockedAsync(CancellationToken ct)
    {
        if (_sealed || _keys is null)
        {
            throw new SealedException();
        }

        if (!await FollowGenerationsAsync(_keys, ct))
        {
            throw new SealStateException("No master key this node holds opens the stored check value; unseal this node again, then rerun `coffer rekey`.");
        }
    }

    private async Task AuditRekeyAsync(Actor actor, string action, string details, CancellationToken ct)
    {
        if (audit is not null)
        {
            await audit.AppendAsync(actor.Event(action) with { Details = details }, ct);
        }
    }
}

/// <summary>Where a rekey stands: none, prepared (<c>master.next</c> stored) or switched (<c>master.retired</c> stored too).</summary>
internal enum RekeyPhase
{
    None,
    Prepared,
    Switched,
}

/// <summary>A finished rekey: whether it finished one interrupted past its switch, how many values it
/// sealed again, and how many opened under neither key (left as they were: corrupt or tampered rows).</summary>
internal sealed record RekeyResult(bool Resumed, int Resealed, int Unopenable);
