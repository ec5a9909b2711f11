using System.Diagnostics.CodeAnalysis;
using Coffer.Crypto;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Coffer.Hsm;

/// <summary>
/// One loaded PKCS#11 module, shared by every token that uses the same module path in this process.
/// </summary>
/// <remarks>
/// <para>A module can be C_Initialize'd only once per process (a second call answers
/// CKR_CRYPTOKI_ALREADY_INITIALIZED), so tokens share it through <see cref="Acquire"/> /
/// <see cref="Release"/> with a reference count.</para>
/// <para>Recovery reinitialises it (C_Finalize, C_Initialize): that invalidates every session and
/// object handle of every token on the module, so it bumps <see cref="Generation"/> and each token
/// drops what it opened under an older generation. Calls into the module hold the read side of
/// <see cref="_calls"/>; reinitialising takes the write side, so C_Finalize never runs under a call
/// in flight.</para>
/// </remarks>
[SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "Reference-counted: the last Release() finalises the module and disposes the lock.")]
internal sealed class Pkcs11Module
{
    private static readonly Dictionary<string, Pkcs11Module> Loaded = new(StringComparer.Ordinal);
    private static readonly Lock RegistryGate = new();

    private readonly ReaderWriterLockSlim _calls = new(LockRecursionPolicy.NoRecursion);
    private readonly Lock _gate = new();
    private readonly string _path;
    private IPkcs11Library? _library;
    private long _generation;
    private int _references;

    private Pkcs11Module(string path)
    {
        _path = path;
        Factories = new Pkcs11InteropFactories();
    }

    public Pkcs11InteropFactories Factories { get; }

    public long Generation => Interlocked.Read(ref _generation);

    public static Pkcs11Module Acquire(string path)
    {
        Pkcs11NativeResolver.EnsureRegistered();
        lock (RegistryGate)
        {
            if (!Loaded.TryGetValue(path, out var module))
            {
                module = new Pkcs11Module(path);
                Loaded[path] = module;
            }

            module._references++;
            return module;
        }
    }

    public void Release()
    {
        // C_Finalize under the registry's gate: the module's state is the process's (one per library,
        // not per load), so a token acquiring the path meanwhile must load it only after this finalises.
        // Finalised outside the gate, it could run after the newcomer's C_Initialize and pull the module
        // out from under it: its next call crashed the process inside SoftHSM2 (a null pointer, seen in a
        // full test run while pkcs11 nodes of parallel tests stopped and started).
        lock (RegistryGate)
        {
            if (--_references > 0)
            {
                return;
            }

            Loaded.Remove(_path);
            _calls.EnterWriteLock();
            try
            {
                Unload();
            }
            finally
            {
                _calls.ExitWriteLock();
            }
        }

        _calls.Dispose();
    }

    /// <summary>The loaded library and its generation; loads it if needed.</summary>
    /// <exception cref="CryptoBackendUnavailableException">The module cannot be loaded or initialised.</exception>
    public (IPkcs11Library Library, long Generation) Library()
    {
        lock (_gate)
        {
            if (_library is null)
            {
                _calls.EnterWriteLock();
                try
                {
                    Load();
                }
                finally
                {
                    _calls.ExitWriteLock();
                }
            }

            return (_library!, Generation);
        }
    }

    /// <summary>C_Finalize then C_Initialize, unless someone already did so since
    /// <paramref name="failedGeneration"/>.</summary>
    public void Reinitialize(long failedGeneration, TimeSpan waitForCalls)
    {
        lock (_gate)
        {
            if (Generation != failedGeneration && _library is not null)
            {
                return;
            }

            if (!_calls.TryEnterWriteLock(waitForCalls))
            {
                throw new CryptoBackendUnavailableException("The PKCS#11 module could not be reinitialised: calls into it did not finish.");
            }

            try
            {
                Unload();
                Load();
            }
            finally
            {
                _calls.ExitWriteLock();
            }
        }
    }

    /// <summary>Runs <paramref name="call"/>, on sessions, slots or objects of <paramref name="generation"/>,
    /// while the module cannot be finalised under it.</summary>
    /// <exception cref="StaleHandlesException">The module was reinitialised since: the call did not run.</exception>
    public T Call<T>(long generation, Func<T> call)
    {
        _calls.EnterReadLock();
        try
        {
            // A reinitialisation between opening the handles and this call (another thread's recovery,
            // or another token on the module) made them meaningless, and disposed the library they use.
            return Generation == generation ? call() : throw new StaleHandlesException();
        }
        finally
        {
            _calls.ExitReadLock();
        }
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "C_Finalize of a module in a broken state may fail any way; the library is dropped regardless.")]
    private void Unload()
    {
        var library = _library;
        _library = null;
        Interlocked.Increment(ref _generation);
        if (library is null)
        {
            return;
        }

        try
        {
            library.Dispose();
        }
        catch (Exception)
        {
            // Nothing to do: the next Load starts over.
        }
    }

    private void Load()
    {
        try
        {
            _library = Factories.Pkcs11LibraryFactory.LoadPkcs11Library(Factories, _path, AppType.MultiThreaded);
            Interlocked.Increment(ref _generation);
        }
        catch (Pkcs11Exception e)
        {
            throw new CryptoBackendUnavailableException($"The PKCS#11 module '{_path}' did not initialise: {Pkcs11Errors.Describe(e)}.", e);
        }
        catch (UnmanagedException e)
        {
            throw new CryptoBackendUnavailableException($"The PKCS#11 module '{_path}' could not be loaded: {e.Message}", e);
        }
        catch (DllNotFoundException e)
        {
            throw new CryptoBackendUnavailableException($"The PKCS#11 module '{_path}' could not be loaded: {e.Message}", e);
        }
    }
}

/// <summary>The module was reinitialised after the handles a call uses were opened, so the call did
/// not run and nothing reached the token: <see cref="Pkcs11Token"/> runs it again on a new session.</summary>
[SuppressMessage("Design", "CA1064:Exceptions should be public", Justification = "Never leaves Coffer.Hsm: Pkcs11Token retries the call, or answers CryptoBackendUnavailableException.")]
internal sealed class StaleHandlesException : Exception
{
    public StaleHandlesException() : base("The PKCS#11 module was reinitialised since these handles were opened.") { }

    public StaleHandlesException(string message) : base(message) { }

    public StaleHandlesException(string message, Exception inner) : base(message, inner) { }
}
