using System.Security.Cryptography;
using Coffer.Crypto;
using Coffer.Server.Services;

namespace Coffer.Server.Seal;

/// <summary>
/// The re-split of the Shamir seal's shares (<c>coffer resplit</c>, docs/master-key.md): an operator
/// starts it with the new count and threshold, the holders of the current shares each submit theirs,
/// and when a quorum has, a new unseal key replaces the old one and its shares are answered, encrypted
/// to their holders' OpenPGP keys when the start named them. The master key does not change and no
/// data is re-sealed: the stored master key is sealed again under the new unseal key, which leaves
/// the old shares rebuilding a key that opens nothing stored. The same step moves the master key
/// between seals: into the pkcs11 seal (the quorum's consent, then the HSM key wraps it), or out of
/// it into new shares (at once: there are no shares to give, and holding the HSM is what unseals).
/// </summary>
/// <remarks>The session lives in this node's memory, under the seal's lock (as pending unseal shares
/// do); the nonce binds each submitted share to the session its holder was told of, so a session
/// cancelled and started again by someone else does not collect shares meant for the first.</remarks>
internal sealed partial class SealManager
{
    private ResplitSession? _resplit;

    /// <summary>The re-split in progress, or none.</summary>
    public async Task<ResplitProgress> ResplitStatusAsync(CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            return await ProgressLockedAsync(ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Starts a re-split into <paramref name="shares"/> shares, any <paramref name="threshold"/> of which
    /// unseal, or with <paramref name="seal"/> pkcs11 a move into the HSM key <paramref name="pkcs11Label"/>.
    /// From the pkcs11 seal it finishes at once.</summary>
    /// <exception cref="SealedException">Coffer is sealed.</exception>
    /// <exception cref="SealStateException">The dev seal, a move the node cannot make, or a re-split already in progress.</exception>
    public Task<ResplitProgress> StartResplitAsync(string seal, int shares, int threshold, ShareHolderKeys? holders, string pkcs11Label, CancellationToken ct = default) =>
        StartSessionAsync(new ResplitSession(NewNonce(), seal, shares, threshold, holders, pkcs11Label, null), ct);

    /// <summary>Starts a rekey of the shamir seal (docs/master-key.md, "coffer rekey"): a re-split session
    /// whose quorum also makes a new master key, then seals everything again under it.</summary>
    /// <exception cref="SealStateException">Not the shamir seal, or a re-split already in progress.</exception>
    public Task<ResplitProgress> StartRekeyAsync(int shares, int threshold, ShareHolderKeys? holders, RekeyOuterLayer outer, Actor actor, CancellationToken ct = default) =>
        StartSessionAsync(new ResplitSession(NewNonce(), SealKinds.Shamir, shares, threshold, holders, string.Empty, new RekeyBy(outer.FollowWait, actor)), ct);

    private static string NewNonce() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    private async Task<ResplitProgress> StartSessionAsync(ResplitSession session, CancellationToken ct)
    {
        var seal = session.Seal;
        await _gate.WaitAsync(ct);
        try
        {
            var kind = await RequireUnsealedSealOfSharesLockedAsync(ct);
            if (session.Rekey is not null && kind != SealKinds.Shamir)
            {
                throw new SealStateException("Only a rekey of the shamir seal takes shares; `coffer rekey` without --shares rekeys this seal at once.");
            }

            if (seal == SealKinds.Pkcs11 && Pkcs11 is null)
            {
                throw new SealStateException("Moving to the pkcs11 seal needs the Pkcs11 section of this node's configuration.");
            }

            if (seal == SealKinds.Pkcs11 && kind == SealKinds.Pkcs11)
            {
                throw new SealStateException("This installation already uses the pkcs11 seal.");
            }

            if (_resplit is not null)
            {
                throw new SealStateException($"A re-split is already in progress (nonce {_resplit.Nonce}); finish or cancel it first.");
            }

            if (kind == SealKinds.Pkcs11)
            {
                return await FinishLockedAsync(session, kind, 0, ct);
            }

            _resplit = session;
            return await ProgressLockedAsync(ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Drops the re-split in progress and the shares given to it.</summary>
    public async Task<ResplitProgress> CancelResplitAsync(CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            _resplit = null;
            return await ProgressLockedAsync(ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Adds one current share to the re-split named by <paramref name="nonce"/>; at the quorum,
    /// replaces the unseal key and answers the new shares.</summary>
    /// <exception cref="SealStateException">No such re-split, a share given twice, or shares that do not
    /// open the master key (then every share given so far is discarded, and the session stays).</exception>
    public async Task<ResplitProgress> SubmitResplitShareAsync(string nonce, string share, CancellationToken ct = default)
    {
        var (progress, rekey) = await SubmitShareLockedAsync(nonce, share, ct);
        return rekey is null ? progress : await FinishShamirRekeyAsync(progress, rekey, ct);
    }

    private async Task<(ResplitProgress Progress, RekeyBy? Rekey)> SubmitShareLockedAsync(string nonce, string share, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (await RequireUnsealedSealOfSharesLockedAsync(ct) != SealKinds.Shamir)
            {
                throw new SealStateException("This installation's seal has no shares to give.");
            }

            var session = _resplit;
            if (session is null || !CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(nonce), System.Text.Encoding.ASCII.GetBytes(session.Nonce)))
            {
                throw new SealStateException("No re-split with this nonce is in progress; `coffer resplit status` shows the one that is.");
            }

            if (session.Given.Contains(share, StringComparer.Ordinal))
            {
                throw new SealStateException("This share was already submitted.");
            }

            session.Given.Add(share);
            var required = await ThresholdLockedAsync(ct);
            if (session.Given.Count < required)
            {
                return (await ProgressLockedAsync(ct), null);
            }

            var given = session.Given.ToList();
            session.Given.Clear();
            await CheckSharesOpenMasterKeyLockedAsync(given, ct);
            return session.Rekey is { } rekey
                ? (await SwitchShamirRekeyLockedAsync(session, rekey, required, ct), rekey)
                : (await FinishLockedAsync(session, SealKinds.Shamir, required, ct), null);
        }
        finally
        {
            _gate.Release();
        }
    }

    // Writes the seal's new settings in one compare-and-set transaction: a failure anywhere before it
    // leaves the old seal as it was, and a rerun starts from there.
    private async Task<ResplitProgress> FinishLockedAsync(ResplitSession session, string kind, int required, CancellationToken ct)
    {
        var system = storage.System;
        var legacy = kind == SealKinds.Shamir && await ShamirSeal.SharesAreTheMasterKeyAsync(system, ct);
        IReadOnlyList<string>? split = null;
        Dictionary<string, string?> values;
        if (session.Seal == SealKinds.Shamir)
        {
            (split, values) = ShamirSeal.Split(_keys!.Current, session.Shares, session.Threshold);
            values[SettingNames.Pkcs11SealLabel] = null;
            values[SettingNames.Pkcs11WrappedMasterKey] = null;
        }
        else
        {
            values = Pkcs11Seal.Settings(Pkcs11!, session.Pkcs11Label, _keys!.Current).ToDictionary(p => p.Key, p => (string?)p.Value);
            values[SettingNames.ShamirShares] = null;
            values[SettingNames.ShamirThreshold] = null;
            values[SettingNames.ShamirSealedMasterKey] = null;
        }

        values[SettingNames.SealKind] = session.Seal;
        var expected = new Dictionary<string, string> { [SettingNames.SealKind] = kind, [SettingNames.MasterCheck] = (await system.GetSettingAsync(SettingNames.MasterCheck, ct))! };
        if (await system.GetSettingAsync(SettingNames.ShamirSealedMasterKey, ct) is { } sealedNow)
        {
            expected[SettingNames.ShamirSealedMasterKey] = sealedNow;
        }

        try
        {
            await system.ReplaceSettingsAsync(expected, values, ct);
        }
        catch (Coffer.Storage.ConflictException)
        {
            _resplit = null;
            throw new SealStateException("The seal changed while the shares were given (another re-split finished first); nothing was written. Start again.");
        }

        _resplit = null;
        Log.Resplit(logger, kind, session.Seal, session.Shares, session.Threshold);
        return new ResplitProgress(false, null, session.Seal, session.Shares, session.Threshold, required, 0,
            split is null ? null : session.Holders?.Encrypt(split) ?? split, session.Holders?.Fingerprints, legacy, kind != session.Seal);
    }

    // Steps 1 and 2 of a shamir rekey, under the lock: the new master key is stored under a new unseal key.
    private async Task<ResplitProgress> SwitchShamirRekeyLockedAsync(ResplitSession session, RekeyBy rekey, int required, CancellationToken ct)
    {
        var legacy = await ShamirSeal.SharesAreTheMasterKeyAsync(storage.System, ct);
        IReadOnlyList<string> split = [];
        try
        {
            await PrepareAndSwitchLockedAsync(RekeyOuterLayer.Shamir(session.Shares, session.Threshold, s => split = s, rekey.FollowWait).Settings, rekey.Actor, ct);
        }
        finally
        {
            _resplit = null;
        }

        Log.Resplit(logger, SealKinds.Shamir, SealKinds.Shamir, session.Shares, session.Threshold);
        return new ResplitProgress(false, null, session.Seal, session.Shares, session.Threshold, required, 0,
            session.Holders?.Encrypt(split) ?? split, session.Holders?.Fingerprints, legacy, false, IsRekey: true);
    }

    // Steps 3 and 4 of a shamir rekey, after the switch: the new shares are answered whatever happens
    // here, since nothing else can unseal Coffer any more; a failure only leaves the rekey to finish.
    private async Task<ResplitProgress> FinishShamirRekeyAsync(ResplitProgress switched, RekeyBy rekey, CancellationToken ct)
    {
        var outer = new RekeyOuterLayer(true, _ => throw new InvalidOperationException("Already switched."), (_, _) => Task.CompletedTask, rekey.FollowWait);
        try
        {
            if (Interlocked.Exchange(ref _rekeyRunning, 1) == 1)
            {
                return switched with { Unfinished = "Another run of `coffer rekey` on this node is sealing the rows again." };
            }

            try
            {
                return switched with { Rekeyed = await FinishRekeyAsync(outer, rekey.Actor, false, ct) };
            }
            finally
            {
                Volatile.Write(ref _rekeyRunning, 0);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.RekeyUnfinished(logger, e);
            return switched with { Unfinished = "The new master key is in force, but sealing every row again stopped (" + (e is SealStateException or SealedException ? e.Message : e.GetType().Name) + "); run `coffer rekey` to finish." };
        }
    }

    private async Task CheckSharesOpenMasterKeyLockedAsync(List<string> given, CancellationToken ct)
    {
        byte[] secret;
        try
        {
            secret = Shamir.Combine(given);
        }
        catch (CryptoException e)
        {
            throw new SealStateException("The submitted shares could not be combined: " + e.Message + " The shares given to this re-split were discarded.");
        }

        try
        {
            using var opened = await ShamirSeal.OpenAsync(storage.System, secret, ct);
            var check = await storage.System.GetSettingAsync(SettingNames.MasterCheck, ct);
            if (check is null || !opened.MatchesCheckValue(Convert.FromBase64String(check)))
            {
                throw new SealStateException("The shares do not open this installation's master key: they belong to an earlier split or to another installation.");
            }
        }
        catch (SealStateException e)
        {
            throw new SealStateException(e.Message + " The shares given to this re-split were discarded.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    // The seal's kind, when it is one a re-split can start from (shamir, pkcs11) and Coffer is unsealed.
    private async Task<string> RequireUnsealedSealOfSharesLockedAsync(CancellationToken ct)
    {
        var kind = await storage.System.GetSettingAsync(SettingNames.SealKind, ct);
        if (kind is not (SealKinds.Shamir or SealKinds.Pkcs11))
        {
            throw new SealStateException(kind is null
                ? "Coffer is not initialised; run 'coffer init' first."
                : $"This installation uses the '{kind}' seal, which neither has shares nor takes them.");
        }

        if (_sealed || _keys is null)
        {
            throw new SealedException();
        }

        return kind;
    }

    private async Task<int> ThresholdLockedAsync(CancellationToken ct) =>
        int.Parse(await storage.System.GetSettingAsync(SettingNames.ShamirThreshold, ct) ?? "0", System.Globalization.CultureInfo.InvariantCulture);

    private async Task<ResplitProgress> ProgressLockedAsync(CancellationToken ct)
    {
        var session = _resplit;
        return session is null
            ? new ResplitProgress(false, null, null, 0, 0, 0, 0, null, null, false, false)
            : new ResplitProgress(true, session.Nonce, session.Seal, session.Shares, session.Threshold, await ThresholdLockedAsync(ct), session.Given.Count, null,
                session.Holders?.Fingerprints, false, false, IsRekey: session.Rekey is not null);
    }

    /// <summary>A session's rekey: who started it, and how long its re-seal waits for other nodes.</summary>
    private sealed record RekeyBy(TimeSpan FollowWait, Actor Actor);

    private sealed record ResplitSession(string Nonce, string Seal, int Shares, int Threshold, ShareHolderKeys? Holders, string Pkcs11Label, RekeyBy? Rekey)
    {
        public List<string> Given { get; } = [];
    }
}

/// <summary>A re-split's state; <paramref name="NewShares"/> only in the answer that finished it.</summary>
/// <param name="Seal">The seal it leads to: shamir (new shares) or pkcs11.</param>
/// <param name="Required">Current shares needed (the current threshold; none from the pkcs11 seal).</param>
/// <param name="OldSharesWereTheMasterKey">The finished re-split moved a data directory whose shares
/// rebuilt the master key itself: they no longer unseal, but they still hold the master key.</param>
/// <param name="SealMoved">The finished re-split changed the seal's kind.</param>
/// <param name="IsRekey">The session also makes a new master key (a shamir rekey).</param>
/// <param name="Rekeyed">The rekey the quorum finished: counts of rows sealed again.</param>
/// <param name="Unfinished">The rekey switched but did not finish sealing every row again: why.</param>
internal sealed record ResplitProgress(
    bool InProgress, string? Nonce, string? Seal, int Shares, int Threshold, int Required, int Progress,
    IReadOnlyList<string>? NewShares, IReadOnlyList<string>? PgpFingerprints, bool OldSharesWereTheMasterKey, bool SealMoved,
    bool IsRekey = false, RekeyResult? Rekeyed = null, string? Unfinished = null);
