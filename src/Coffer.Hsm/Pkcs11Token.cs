using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Coffer.Crypto;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Coffer.Hsm;

/// <summary>
/// One token: its slot, a bounded pool of logged-in read/write sessions, and recovery from outages
/// (docs/pkcs11.md, "Sessions" and "Outage and recovery").
/// </summary>
/// <remarks>
/// <para>Thread-safe. At most <see cref="Pkcs11Options.SessionPoolSize"/> calls use the token at
/// once (a <see cref="SemaphoreSlim"/>); a call that waits longer than
/// <see cref="Pkcs11Options.SessionTimeoutMs"/> fails with <see cref="CryptoBackendBusyException"/>.</para>
/// <para>A fatal CKR code (<see cref="Pkcs11Errors.IsFatal"/>) marks the token broken and drops the
/// session. The next call reconnects — C_Finalize/C_Initialize the module, find the slot again, open
/// a session and log in — and until that succeeds calls fail fast with
/// <see cref="CryptoBackendUnavailableException"/>, retrying after a backoff (100 ms doubling to 5 s). A wrong
/// PIN is never retried: that would lock the token.</para>
/// <para>A reinitialisation can fall between renting a session (or finding the slot) and using it:
/// another thread's recovery, or another token on the same module. The module then refuses the call
/// before it runs (<see cref="StaleHandlesException"/>: the old handles mean nothing, and the old
/// library object is disposed), and the call runs again on a new session; nothing had reached the
/// token, so even C_DestroyObject may.</para>
/// </remarks>
internal sealed class Pkcs11Token : IDisposable
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    // Attempts of one call that each found the module reinitialised under it (StaleHandlesException).
    private const int StaleAttempts = 3;

    private readonly Pkcs11Options _options;
    private readonly Pkcs11Module _module;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _permits;
    private readonly ConcurrentBag<PooledSession> _idle = [];
    private readonly Lock _gate = new();
    private readonly byte[] _pin;
    private readonly TimeSpan _acquireTimeout;
    private readonly Lazy<HsmWorkers> _workers;

    // Connection state, guarded by _gate.
    private ISlot? _slot;
    private long _connectedGeneration = -1;
    private bool _broken;
    private string? _permanentFailure;
    private long _failedGeneration;
    private DateTimeOffset _nextAttempt;
    private TimeSpan _backoff = FirstBackoff;
    private string _lastError = "not connected yet";
    private int _disposed;

    public Pkcs11Token(Pkcs11Options options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _time = time ?? TimeProvider.System;
        _acquireTimeout = TimeSpan.FromMilliseconds(options.SessionTimeoutMs);
        _permits = new SemaphoreSlim(options.SessionPoolSize, options.SessionPoolSize);
        var pin = options.ReadPin();
        _pin = GC.AllocateArray<byte>(pin.Length, pinned: true);
        pin.CopyTo(_pin, 0);
        CryptographicOperations.ZeroMemory(pin);
        _module = Pkcs11Module.Acquire(options.ModulePath!);
        // Started on first use: tools that only create or import keys never need them.
        _workers = new Lazy<HsmWorkers>(() => new HsmWorkers(this, options.SessionPoolSize, _acquireTimeout));
    }

    public Pkcs11InteropFactories Factories => _module.Factories;

    /// <summary>Generation of the module under which the current sessions and handles are valid.</summary>
    public long Generation => _module.Generation;

    /// <summary>Connects now (module, slot, login) so configuration errors show at start-up.</summary>
    public void Connect() => Run(static _ => 0);

    /// <summary>Runs <paramref name="operation"/> on a pooled logged-in session.</summary>
    /// <exception cref="CryptoBackendBusyException">No session became free within SessionTimeoutMs.</exception>
    /// <exception cref="CryptoBackendUnavailableException">The token is unreachable (a fatal CKR code), reconnecting
    /// failed, or the backoff after a failure has not yet passed.</exception>
    /// <exception cref="Pkcs11Exception">A non-fatal error of the operation itself, for the caller to map.</exception>
    public T Run<T>(Func<ISession, T> operation) => Run(operation, _acquireTimeout);

    /// <summary>As <see cref="Run{T}(Func{ISession, T})"/>, on one of the token's dedicated HSM threads
    /// (<see cref="HsmWorkers"/>): the calling thread does not block while the HSM works.</summary>
    public Task<T> RunAsync<T>(Func<ISession, T> operation, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _workers.Value.RunAsync(operation, ct);
    }

    /// <summary>As <see cref="Run{T}(Func{ISession, T})"/>, waiting at most <paramref name="sessionWait"/> for a session.</summary>
    internal T Run<T>(Func<ISession, T> operation, TimeSpan sessionWait)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (!_permits.Wait(sessionWait))
        {
            throw new CryptoBackendBusyException($"All {_options.SessionPoolSize} HSM sessions stayed busy for {_options.SessionTimeoutMs} ms.");
        }

        try
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return RunOnce(operation);
                }
                catch (StaleHandlesException) when (attempt < StaleAttempts)
                {
                    // Nothing reached the token: the next attempt reconnects under the new generation.
                }
                catch (StaleHandlesException e)
                {
                    throw new CryptoBackendUnavailableException($"The PKCS#11 module was reinitialised under {StaleAttempts} attempts of this call in a row.", e);
                }
            }
        }
        finally
        {
            _permits.Release();
        }
    }

    // One attempt of Run, holding a permit.
    private T RunOnce<T>(Func<ISession, T> operation)
    {
        var session = Rent();
        var keep = false;
        try
        {
            var result = _module.Call(session.Generation, () => operation(session.Session));
            keep = true;
            return result;
        }
        catch (Pkcs11Exception e) when (Pkcs11Errors.IsFatal(e.RV))
        {
            MarkBroken(session.Generation, Pkcs11Errors.Describe(e));
            throw new CryptoBackendUnavailableException($"The HSM token is unavailable: {Pkcs11Errors.Describe(e)}.", e);
        }
        catch (Pkcs11Exception)
        {
            // A non-fatal error leaves the session usable (PKCS#11 ends the failed operation).
            keep = true;
            throw;
        }
        finally
        {
            Return(session, keep);
        }
    }

    /// <summary>Asks the token itself (C_GetTokenInfo) whether it is there: used to tell a failed tag
    /// from a failed device when a module answers both with the same code.</summary>
    public bool IsTokenResponding()
    {
        ISlot? slot;
        long generation;
        lock (_gate)
        {
            slot = _slot;
            generation = _connectedGeneration;
        }

        if (slot is null || generation != _module.Generation)
        {
            return false;
        }

        try
        {
            _module.Call(generation, slot.GetTokenInfo);
            return true;
        }
        catch (StaleHandlesException)
        {
            // Reinitialised since the slot was found: as when the generation differed above.
            return false;
        }
        catch (Pkcs11Exception e)
        {
            MarkBroken(generation, Pkcs11Errors.Describe(e));
            return false;
        }
    }

    /// <summary>Marks the token broken after a fatal error seen outside <see cref="Run{T}(Func{ISession, T}, TimeSpan)"/>.</summary>
    public void MarkBroken(long generation, string error)
    {
        lock (_gate)
        {
            if (generation != _connectedGeneration || _broken)
            {
                return;
            }

            _broken = true;
            _failedGeneration = generation;
            _lastError = error;
            _backoff = FirstBackoff;
            // The first reconnect is tried on the very next call.
            _nextAttempt = _time.GetUtcNow();
        }
    }

    /// <summary>
    /// Closes every idle session (<c>coffer seal</c>): when a token's last session closes, the login
    /// ends with it (PKCS#11 v2.40, section 5.6). The next operation opens and logs in afresh.
    /// </summary>
    public void DropSessions()
    {
        while (_idle.TryTake(out var session))
        {
            if (session.Generation == _module.Generation)
            {
                CloseQuietly(session);
            }
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_workers.IsValueCreated)
        {
            _workers.Value.Dispose();
        }

        while (_idle.TryTake(out var session))
        {
            CloseQuietly(session);
        }

        CryptographicOperations.ZeroMemory(_pin);
        _module.Release();
        _permits.Dispose();
    }

    private PooledSession Rent()
    {
        var generation = EnsureConnected();
        while (_idle.TryTake(out var idle))
        {
            if (idle.Generation == generation)
            {
                return idle;
            }

            // Opened before a reinitialisation: its handle means nothing now, so no C_CloseSession.
        }

        return OpenSession(generation);
    }

    private void Return(PooledSession session, bool keep)
    {
        if (keep && session.Generation == _module.Generation && Volatile.Read(ref _disposed) == 0)
        {
            _idle.Add(session);
        }
        else if (session.Generation == _module.Generation)
        {
            CloseQuietly(session);
        }
    }

    private PooledSession OpenSession(long generation)
    {
        ISlot slot;
        lock (_gate)
        {
            slot = _slot ?? throw new CryptoBackendUnavailableException("The HSM token is not connected.");
        }

        try
        {
            var session = _module.Call(generation, () => slot.OpenSession(SessionType.ReadWrite));
            // Login state belongs to the application and token, not the session (PKCS#11 v2.40
            // section 5.6), so later sessions are already logged in.
            LoginIfNeeded(session, generation);
            return new PooledSession(session, generation);
        }
        catch (Pkcs11Exception e) when (Pkcs11Errors.IsFatal(e.RV))
        {
            MarkBroken(generation, Pkcs11Errors.Describe(e));
            throw new CryptoBackendUnavailableException($"The HSM token is unavailable: {Pkcs11Errors.Describe(e)}.", e);
        }
    }

    private void LoginIfNeeded(ISession session, long generation)
    {
        try
        {
            _module.Call(generation, () =>
            {
                session.Login(CKU.CKU_USER, _pin);
                return 0;
            });
        }
        catch (Pkcs11Exception e) when (e.RV == CKR.CKR_USER_ALREADY_LOGGED_IN)
        {
            // Expected for every session after the first.
        }
        catch (Pkcs11Exception e) when (Pkcs11Errors.IsPinProblem(e.RV))
        {
            CloseQuietly(new PooledSession(session, generation));
            lock (_gate)
            {
                _permanentFailure = $"Login to the HSM token failed: {Pkcs11Errors.Describe(e)}. Coffer will not retry (that could lock the PIN); fix the PIN and restart.";
            }

            throw new CryptoBackendUnavailableException(_permanentFailure, e);
        }
        catch (Pkcs11Exception e)
        {
            // Any other login failure (e.g. CKR_USER_PIN_NOT_INITIALIZED on a token being set up)
            // means the token cannot serve now: unavailable, retried after the back-off.
            CloseQuietly(new PooledSession(session, generation));
            MarkBroken(generation, Pkcs11Errors.Describe(e));
            throw new CryptoBackendUnavailableException($"Login to the HSM token failed: {Pkcs11Errors.Describe(e)}.", e);
        }
    }

    // Returns the module generation the caller's session must belong to.
    private long EnsureConnected()
    {
        lock (_gate)
        {
            if (_permanentFailure is not null)
            {
                throw new CryptoBackendUnavailableException(_permanentFailure);
            }

            var generation = _module.Generation;
            if (!_broken && _slot is not null && _connectedGeneration == generation)
            {
                return generation;
            }

            var now = _time.GetUtcNow();
            if (_broken && now < _nextAttempt)
            {
                throw new CryptoBackendUnavailableException($"The HSM token is unavailable ({_lastError}); the next reconnect attempt is in {(_nextAttempt - now).TotalMilliseconds:F0} ms.");
            }

            try
            {
                if (_broken)
                {
                    _module.Reinitialize(_failedGeneration, TimeSpan.FromSeconds(5));
                }

                var (library, current) = _module.Library();
                _slot = FindSlot(library, current);
                _connectedGeneration = current;
                _broken = false;
                _backoff = FirstBackoff;
                return current;
            }
            catch (CryptoBackendUnavailableException e)
            {
                Backoff(now, e.Message);
                throw;
            }
            catch (Pkcs11Exception e)
            {
                Backoff(now, Pkcs11Errors.Describe(e));
                throw new CryptoBackendUnavailableException($"The HSM token is unavailable: {Pkcs11Errors.Describe(e)}.", e);
            }
        }
    }

    // Called under _gate.
    private void Backoff(DateTimeOffset now, string error)
    {
        _broken = true;
        _failedGeneration = _module.Generation;
        _lastError = error;
        _nextAttempt = now + _backoff;
        _backoff = _backoff * 2 > MaxBackoff ? MaxBackoff : _backoff * 2;
    }

    private ISlot FindSlot(IPkcs11Library library, long generation)
    {
        var slots = _module.Call(generation, () => library.GetSlotList(SlotsType.WithTokenPresent));
        foreach (var slot in slots)
        {
            if (_options.SlotId is { } id)
            {
                if (slot.SlotId == id)
                {
                    return slot;
                }

                continue;
            }

            ITokenInfo info;
            try
            {
                info = _module.Call(generation, slot.GetTokenInfo);
            }
            catch (Pkcs11Exception)
            {
                // A token that cannot describe itself is not the one we look for.
                continue;
            }

            if (string.Equals(info.Label.TrimEnd(' ', '\0'), _options.TokenLabel, StringComparison.Ordinal))
            {
                return slot;
            }
        }

        throw new CryptoBackendUnavailableException(_options.SlotId is { } slotId
            ? $"No token is present in slot {slotId}."
            : $"No token labelled '{_options.TokenLabel}' is present.");
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "Closing a session that is being thrown away must not hide the original error.")]
    private void CloseQuietly(PooledSession session)
    {
        try
        {
            if (session.Generation == _module.Generation)
            {
                _module.Call(session.Generation, () =>
                {
                    session.Session.CloseSession();
                    return 0;
                });
            }
        }
        catch (Exception)
        {
            // The session is gone either way.
        }
    }

    private sealed record PooledSession(ISession Session, long Generation);
}
