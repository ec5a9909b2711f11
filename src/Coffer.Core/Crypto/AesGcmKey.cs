using System.Security.Cryptography;

namespace Coffer.Crypto;

/// <summary>
/// An AES-256-GCM key held in process memory: the <see cref="IAeadKey"/> of the software backend and
/// the per-purpose subkeys of <see cref="MasterKey"/>. It is the XKS hot path.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="AesGcm"/> must not be used by two threads at once, and building one expands the key
/// schedule, so each key keeps a small pool of instances: a call rents one (or creates one when the
/// pool is empty), uses it and returns it. The pool is an array of slots swapped with
/// <see cref="Interlocked.Exchange{T}(ref T, T)"/>, so renting and returning allocate nothing.
/// </para>
/// <para>
/// Disposal is reference-counted (the pattern of <see cref="System.Runtime.InteropServices.SafeHandle.DangerousAddRef(ref bool)"/>): every
/// call holds a reference while it runs, and the raw key is zeroed and the pooled instances freed
/// only when the last running call ends. So a call that races <see cref="Dispose"/> either finishes
/// with the real key or throws <see cref="ObjectDisposedException"/>; it can never build an
/// <see cref="AesGcm"/> from a half-zeroed key.
/// </para>
/// </remarks>
internal sealed class AesGcmKey : IAeadKey
{
    public const int KeySize = 32;

    // Enough instances for every core to encrypt at once with some slack; beyond this, instances
    // created under a burst are disposed on return instead of kept.
    private static readonly int PoolSize = Math.Clamp(Environment.ProcessorCount * 2, 4, 64);

    private readonly byte[] _key;
    private readonly AesGcm?[] _pool;

    // 1 for the owner (released by Dispose) plus 1 per running call; 0 means destroyed.
    private int _references = 1;
    private int _disposed;

    /// <summary>Copies <paramref name="key"/> (32 bytes) into a pinned buffer; the caller zeroes its copy.</summary>
    public AesGcmKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeySize)
        {
            throw new ArgumentException("An AES-256 key is 32 bytes.", nameof(key));
        }

        // Pinned so the GC never leaves copies of the key behind when it compacts the heap.
        _key = GC.AllocateArray<byte>(KeySize, pinned: true);
        key.CopyTo(_key);
        _pool = new AesGcm?[PoolSize];
    }

    /// <summary>A key over fresh random material that is never stored (health checks).</summary>
    public static AesGcmKey Generate()
    {
        Span<byte> key = stackalloc byte[KeySize];
        try
        {
            RandomNumberGenerator.Fill(key);
            return new AesGcmKey(key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Only for known-answer tests: a key from given bytes.</summary>
    internal static AesGcmKey FromRawKeyForTests(ReadOnlySpan<byte> key) => new(key);

    public void Encrypt(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> aad, Span<byte> iv, Span<byte> ciphertext, Span<byte> tag)
    {
        if (iv.Length != IAeadKey.IvSize)
        {
            CryptoThrowHelper.ThrowArgument(nameof(iv), "The IV must be 12 bytes.");
        }

        // The IV comes from the CSPRNG on every call, never from the caller, so it cannot repeat
        // by mistake (NIST SP 800-38D 8.2.2: random 96-bit IVs, at most 2^32 uses per key).
        RandomNumberGenerator.Fill(iv);
        EncryptWithIv(iv, plaintext, aad, ciphertext, tag);
    }

    /// <summary>Encrypts with a given IV. Only the public <see cref="Encrypt"/> and known-answer tests
    /// call this: production code never chooses an IV.</summary>
    internal void EncryptWithIv(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> aad, Span<byte> ciphertext, Span<byte> tag)
    {
        if (iv.Length != IAeadKey.IvSize)
        {
            CryptoThrowHelper.ThrowArgument(nameof(iv), "The IV must be 12 bytes.");
        }

        if (tag.Length != IAeadKey.TagSize)
        {
            CryptoThrowHelper.ThrowArgument(nameof(tag), "The tag must be 16 bytes.");
        }

        if (ciphertext.Length != plaintext.Length)
        {
            CryptoThrowHelper.ThrowArgument(nameof(ciphertext), "The ciphertext must be as long as the plaintext.");
        }

        AddReference();
        try
        {
            var aes = Rent();
            try
            {
                aes.Encrypt(iv, plaintext, ciphertext, tag, aad);
            }
            finally
            {
                Return(aes);
            }
        }
        finally
        {
            Release();
        }
    }

    /// <inheritdoc />
    /// <remarks>An IV other than 12 bytes or a tag other than 16 bytes cannot come from this key, so it
    /// is reported as a failed decryption (XKS: InvalidCiphertextException), not as an argument error.</remarks>
    public bool TryDecrypt(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> aad, Span<byte> plaintext)
    {
        if (plaintext.Length != ciphertext.Length)
        {
            CryptoThrowHelper.ThrowArgument(nameof(plaintext), "The plaintext must be as long as the ciphertext.");
        }

        if (iv.Length != IAeadKey.IvSize || tag.Length != IAeadKey.TagSize)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            return false;
        }

        AddReference();
        try
        {
            var aes = Rent();
            try
            {
                aes.Decrypt(iv, ciphertext, tag, plaintext, aad);
                return true;
            }
            catch (AuthenticationTagMismatchException)
            {
                // AesGcm already clears the output on a mismatch; clear it again so the contract
                // does not depend on that implementation detail.
                CryptographicOperations.ZeroMemory(plaintext);
                return false;
            }
            finally
            {
                Return(aes);
            }
        }
        finally
        {
            Release();
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Release();
        }
    }

    private AesGcm Rent()
    {
        var pool = _pool;
        for (var i = 0; i < pool.Length; i++)
        {
            var aes = Interlocked.Exchange(ref pool[i], null);
            if (aes is not null)
            {
                return aes;
            }
        }

        return new AesGcm(_key, IAeadKey.TagSize);
    }

    private void Return(AesGcm aes)
    {
        var pool = _pool;
        for (var i = 0; i < pool.Length; i++)
        {
            if (Interlocked.CompareExchange(ref pool[i], aes, null) is null)
            {
                return;
            }
        }

        aes.Dispose();
    }

    private void AddReference()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            CryptoThrowHelper.ThrowObjectDisposed(this);
        }

        var current = Volatile.Read(ref _references);
        while (true)
        {
            if (current == 0)
            {
                CryptoThrowHelper.ThrowObjectDisposed(this);
            }

            var seen = Interlocked.CompareExchange(ref _references, current + 1, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            Destroy();
        }
    }

    // Runs once, when no call is running and none can start.
    private void Destroy()
    {
        CryptographicOperations.ZeroMemory(_key);
        for (var i = 0; i < _pool.Length; i++)
        {
            Interlocked.Exchange(ref _pool[i], null)?.Dispose();
        }
    }
}
