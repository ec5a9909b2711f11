using System.Collections.Frozen;
using System.Security.Cryptography;
using Coffer.Audit;
using Coffer.Auth;
using Coffer.Changes;
using Coffer.Crypto;
using Coffer.Server.Audit;
using Coffer.Server.KeyRing;
using Coffer.Storage;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Seal;

/// <summary>
/// Owns the master key and everything unwrapped from it. Sealed, Coffer holds no key material and
/// serves no key operation; unsealed, it holds the master key, the crypto backend and the current
/// <see cref="KeyRingSnapshot"/> (docs/design.md, "Key hierarchy"; Vault's barrier).
/// </summary>
/// <remarks>
/// Thread-safe: state changes are serialised by one lock; readers see whole snapshots. With an
/// <see cref="AuditLog"/>, unseal hands it the checkpoint key and is recorded before Coffer serves
/// (fail closed: an unseal that cannot be recorded does not happen); seal takes the key back and is
/// recorded after the fact, since cutting keys off must never wait for the audit store.
/// </remarks>
internal sealed partial class SealManager(
    ICofferStorage storage,
    IChangeFeed changes,
    TimeProvider time,
    ILogger<SealManager> logger,
    IReadOnlyList<ICryptoBackend>? hsmBackends = null,
    AuditLog? audit = null) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<string> _pendingShares = [];
    private volatile KeyRingSnapshot _ring = KeyRingSnapshot.CreateEmpty();
    private volatile bool _sealed = true;
    private volatile FrozenDictionary<string, string> _prefixes = FrozenDictionary<string, string>.Empty;
    private MasterKeyGenerations? _keys;
    private CryptoBackends? _backends;

    public bool IsSealed => _sealed;

    /// <summary>The snapshot the XKS hot path reads; empty while sealed.</summary>
    public KeyRingSnapshot KeyRing => _ring;

    /// <summary>The current key ring, held for one request until the lease is disposed: a change or
    /// seal meanwhile replaces it, but zeroes its secrets only after the request is done.</summary>
    public KeyRingLease LeaseKeyRing()
    {
        while (true)
        {
            var ring = _ring;
            if (ring.TryAcquire())
            {
                return new KeyRingLease(ring);
            }

            // Retired and let go between the read and the acquire: _ring already holds its successor.
        }
    }

    public ICofferStorage Storage => storage;

    /// <summary>The node's PKCS#11 backend, when one is configured (the pkcs11 seal uses it).</summary>
    public ICryptoBackend? Pkcs11 => hsmBackends?.FirstOrDefault(b => b.Name == Coffer.KeyStores.KeyStoreBackends.Pkcs11);

    /// <summary>The dedicated key of a backend's deep health check; null while sealed or when the
    /// backend could not make one.</summary>
    public IAeadKey? HealthKey(string backend) => _backends?.HealthKey(backend);

    /// <summary>The backend of the key store at this prefix, or null; answers while sealed, from
    /// storage read at start and after every change (prefixes are not secret).</summary>
    public string? BackendOfPrefix(ReadOnlySpan<char> prefix) =>
        _prefixes.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(prefix, out var backend) ? backend : null;

    /// <summary>Reads what Coffer may know while sealed (the key store prefixes).</summary>
    public async Task LoadSealedViewAsync(CancellationToken ct = default)
    {
        var stores = await storage.KeyStores.ListKeyStoresAsync(ct);
        _prefixes = stores.ToFrozenDictionary(s => s.Prefix.Value, s => s.Backend, StringComparer.Ordinal);
    }

    public int PendingShareCount
    {
        get { lock (_pendingShares) { return _pendingShares.Count; } }
    }

    /// <summary>Runs <paramref name="action"/> with the unsealed backend and master key, serialised
    /// with seal/unseal and other changes, then publishes <see cref="ChangeTopic.KeyRing"/>, so the
    /// change is live on this node when this returns and reaches the others.</summary>
    /// <exception cref="SealedException">Coffer is sealed.</exception>
    public async Task<T> ChangeAsync<T>(Func<CryptoBackends, MasterKey, Task<T>> action, CancellationToken ct = default)
    {
        T result;
        await _gate.WaitAsync(ct);
        try
        {
            if (_sealed || _keys is null || _backends is null)
            {
                throw new SealedException();
            }

            result = await action(_backends, _keys.Current);
        }
        finally
        {
            _gate.Release();
        }

        // Outside the gate: the key ring's own subscriber (ReloadAsync) takes it.
        await changes.PublishAsync(ChangeTopic.KeyRing);
        return result;
    }

    /// <summary>Rebuilds the key ring from storage (the <see cref="ChangeTopic.KeyRing"/> subscriber);
    /// while sealed, only the key store prefixes are read.</summary>
    public async Task ReloadAsync(CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (_sealed)
            {
                await LoadSealedViewAsync(ct);
            }
            else
            {
                await ReloadLockedAsync(ct);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Opens a sealed secret with the master key (e.g. to export a credential), under whichever
    /// generation sealed it during a rekey.</summary>
    public async Task<byte[]> OpenSecretAsync(string purpose, string context, byte[] sealedData, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            return _keys is null ? throw new SealedException() : _keys.Open(purpose, context, sealedData);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Seals a secret with the master key (e.g. a webhook's signing secret) without the key ring
    /// reload of <see cref="ChangeAsync"/>: storing it is the caller's.</summary>
    /// <exception cref="SealedException">Coffer is sealed.</exception>
    public async Task<byte[]> SealSecretAsync(string purpose, string context, byte[] secret, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            return _keys is null || _sealed ? throw new SealedException() : _keys.Current.Seal(purpose, context, secret);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Unseals with a master key taken from a seal that needs no operator (the dev seal).</summary>
    public async Task UnsealWithAsync(MasterKey master, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            await UnsealLockedAsync(master, ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Adds one Shamir share. When the threshold is reached the shares are combined and checked
    /// against the stored check value; a wrong combination discards every pending share.
    /// </summary>
    public async Task<UnsealProgress> SubmitShareAsync(string share, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var kind = await storage.System.GetSettingAsync(SettingNames.SealKind, ct);
            if (kind is null)
            {
                throw new SealStateException("Coffer is not initialised; run 'coffer init' first.");
            }

            if (kind != SealKinds.Shamir)
            {
                throw new SealStateException($"This installation uses the '{kind}' seal, which does not take shares.");
            }

            var threshold = int.Parse(await storage.System.GetSettingAsync(SettingNames.ShamirThreshold, ct) ?? "0", System.Globalization.CultureInfo.InvariantCulture);
            if (!_sealed)
            {
                return new UnsealProgress(false, threshold, 0);
            }

            List<string> shares;
            lock (_pendingShares)
            {
                if (_pendingShares.Contains(share, StringComparer.Ordinal))
                {
                    throw new SealStateException("This share was already submitted.");
                }

                _pendingShares.Add(share);
                if (_pendingShares.Count < threshold)
                {
                    return new UnsealProgress(true, threshold, _pendingShares.Count);
                }

                shares = [.. _pendingShares];
                _pendingShares.Clear();
            }

            byte[] secret;
            try
            {
                secret = Shamir.Combine(shares);
            }
            catch (CryptoException e)
            {
                throw new SealStateException("The submitted shares could not be combined: " + e.Message + " All pending shares were discarded.");
            }

            MasterKey master;
            try
            {
                master = await ShamirSeal.OpenAsync(storage.System, secret, ct);
            }
            catch (SealStateException e)
            {
                throw new SealStateException(e.Message + " All pending shares were discarded.");
            }
            finally
            {
                CryptographicOperations.ZeroMemory(secret);
            }

            await UnsealLockedAsync(master, ct);
            return new UnsealProgress(false, threshold, 0);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void DiscardPendingShares()
    {
        lock (_pendingShares)
        {
            _pendingShares.Clear();
        }
    }

    /// <summary>Drops every piece of key material from memory at once.</summary>
    public async Task SealAsync(CancellationToken ct = default)
    {
        bool wasUnsealed;
        await _gate.WaitAsync(ct);
        try
        {
            wasUnsealed = !_sealed;
            SealLocked();
        }
        finally
        {
            _gate.Release();
        }

        if (wasUnsealed && audit is not null)
        {
            try
            {
                await audit.AppendAsync(new AuditEvent { Action = AuditActions.SealSeal, ActorKind = AuditActorKinds.System, Details = "sealed; all key material dropped" }, ct);
            }
            catch (AuditUnavailableException e)
            {
                Log.SealNotAudited(logger, e);
            }
        }
    }

    /// <summary>Creates the master key and the root token of a new installation, exactly once; with
    /// <paramref name="holders"/>, each share is returned only encrypted to its holder's key.</summary>
    public async Task<InitResult> InitializeShamirAsync(int shares, int threshold, ShareHolderKeys? holders = null, CancellationToken ct = default)
    {
        if (shares is < 1 or > 255 || threshold < 1 || threshold > shares)
        {
            throw new SealStateException("Shares must be 1..255 and the threshold 1..shares.");
        }

        await _gate.WaitAsync(ct);
        try
        {
            using var master = MasterKey.Generate();
            var (split, settings) = ShamirSeal.Split(master, shares, threshold);
            var rootToken = await InitializeLockedAsync(master, SealKinds.Shamir, settings.ToDictionary(p => p.Key, p => p.Value!), ct);
            Log.Initialized(logger, SealKinds.Shamir, shares, threshold);
            return new InitResult(holders?.Encrypt(split) ?? split, rootToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Initialises with a caller-held master key (the dev seal) and returns the root token.</summary>
    public async Task<string> InitializeWithKeyAsync(MasterKey master, string sealKind, IReadOnlyDictionary<string, string>? settings = null, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var token = await InitializeLockedAsync(master, sealKind, new Dictionary<string, string>(settings ?? new Dictionary<string, string>()), ct);
            Log.Initialized(logger, sealKind, 0, 0);
            return token;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<string> InitializeLockedAsync(MasterKey master, string sealKind, Dictionary<string, string> settings, CancellationToken ct)
    {
        if (await storage.System.GetSettingAsync(SettingNames.SealKind, ct) is not null)
        {
            throw new SealStateException("Coffer is already initialised.");
        }

        settings[SettingNames.SealKind] = sealKind;
        settings[SettingNames.MasterCheck] = Convert.ToBase64String(master.CreateCheckValue());
        settings[SettingNames.InitializedAt] = time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            await storage.System.InsertSettingsAsync(settings, ct);
        }
        catch (ConflictException)
        {
            throw new SealStateException("Coffer is already initialised.");
        }

        var token = CredentialGenerator.NewApiToken();
        await storage.System.AddTokenAsync(new ApiToken(
            CredentialGenerator.NewId("tok"), "root", ApiTokenHash.Of(token), Roles.Administrator, time.GetUtcNow(), null, null), ct);
        return token;
    }

    private async Task UnsealLockedAsync(MasterKey master, CancellationToken ct)
    {
        // The key the seal gave may be one generation behind the check value during a rekey (a seal
        // read just before the switch): following master.next makes it current.
        var keys = new MasterKeyGenerations(master);
        if (!await FollowGenerationsAsync(keys, ct))
        {
            DisposeAll(keys);
            throw new SealStateException("The master key does not match this installation; Coffer stays sealed.");
        }

        if (!_sealed)
        {
            DisposeAll(keys);
            return;
        }

        _keys = keys;
        _backends = new CryptoBackends(new SoftwareCryptoBackend(keys), hsmBackends ?? []);
        try
        {
            await ReloadLockedAsync(ct);
            if (audit is not null)
            {
                // The key first, so this record's batch carries the checkpoint that also covers
                // everything recorded while sealed.
                audit.SetCheckpointKey(await AuditCheckpointKeyAsync(keys, ct));
                // Say in the chain itself which records this checkpoint adopts: they were written with
                // no key to prove them (while sealed), so they are only as good as the storage was then.
                var (head, proven) = (audit.Head.Sequence, audit.LastCheckpoint);
                var adopted = head > proven
                    ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"; its checkpoint adopts records {proven + 1} to {head}, written without one")
                    : string.Empty;
                await audit.AppendAsync(new AuditEvent
                {
                    Action = AuditActions.SealUnseal,
                    ActorKind = AuditActorKinds.System,
                    Details = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"unsealed; {_ring.KeyStoreCount} key stores loaded{adopted}"),
                }, ct);
            }
        }
        catch
        {
            SealLocked();
            throw;
        }

        _sealed = false;
        Log.Unsealed(logger, _ring.KeyStoreCount);
    }

    private void SealLocked()
    {
        _sealed = true;
        var old = _ring;
        _ring = KeyRingSnapshot.CreateEmpty();
        old.Retire(null);
        _backends?.Dispose();
        _backends = null;
        // An HSM keeps no session of Coffer's while sealed (the pkcs11 seal's "seal logs out").
        foreach (var backend in hsmBackends ?? [])
        {
            backend.LogOut();
        }

        if (_keys is not null)
        {
            DisposeAll(_keys);
        }

        _keys = null;
        audit?.ClearCheckpointKey();
        DiscardPendingShares();
        _resplit = null;
        Log.Sealed(logger);
    }

    private async Task ReloadLockedAsync(CancellationToken ct)
    {
        if (!await FollowGenerationsAsync(_keys!, ct))
        {
            // No key this node holds opens the check value: a rekey finished while it did not reload.
            Log.LostTheMasterKey(logger);
            SealLocked();
            throw new SealStateException("No master key this node holds opens the stored check value (a rekey finished while it did not follow); it sealed itself. Unseal it again.");
        }

        var next = await KeyRingLoader.LoadAsync(storage, _backends!, _keys!, _ring, logger, ct);
        var old = _ring;
        _ring = next;
        old.Retire(next);
        _prefixes = next.KeyStores.ToFrozenDictionary(s => s.KeyStore.Prefix.Value, s => s.KeyStore.Backend, StringComparer.Ordinal);
    }

    public void Dispose()
    {
        SealLocked();
        _gate.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Coffer unsealed; {KeyStoreCount} key stores loaded")]
        public static partial void Unsealed(ILogger logger, int keyStoreCount);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Coffer sealed; all key material dropped from memory")]
        public static partial void Sealed(ILogger logger);

        [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "Coffer sealed, but the audit log could not record it")]
        public static partial void SealNotAudited(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "The master key's seal was re-split from {From} to {To} ({Shares} shares of which {Threshold} unseal, for shamir)")]
        public static partial void Resplit(ILogger logger, string from, string to, int shares, int threshold);

        [LoggerMessage(EventId = 1006, Level = LogLevel.Critical, Message = "No master key this node holds opens the stored check value: a rekey finished while this node did not follow it. The node seals itself; unseal it again")]
        public static partial void LostTheMasterKey(ILogger logger);

        [LoggerMessage(EventId = 1007, Level = LogLevel.Error, Message = "A rekey switched to the new master key but did not finish sealing every row again; run `coffer rekey` to finish")]
        public static partial void RekeyUnfinished(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Coffer initialised with the {SealKind} seal ({Threshold} of {Shares} shares)")]
        public static partial void Initialized(ILogger logger, string sealKind, int shares, int threshold);
    }
}

internal sealed record UnsealProgress(bool Sealed, int Threshold, int Progress);

internal sealed record InitResult(IReadOnlyList<string> Shares, string RootToken);

/// <summary>An operation needs key material but Coffer is sealed.</summary>
internal sealed class SealedException() : Exception("Coffer is sealed; unseal it first ('coffer unseal').");

/// <summary>An init/unseal request that cannot be carried out in the current state.</summary>
internal sealed class SealStateException(string message) : Exception(message);
