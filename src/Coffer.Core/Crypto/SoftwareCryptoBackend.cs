using System.Globalization;
using System.Security.Cryptography;
using Coffer.Keys;

namespace Coffer.Crypto;

/// <summary>
/// The <c>software</c> backend (docs/design.md, "Crypto backends"): AES-256 key material made from
/// the CSPRNG and stored sealed under the master key, bound to its key id and version.
/// </summary>
/// <remarks>
/// <para>Stored form: <see cref="MasterKey.Seal"/> with purpose <see cref="SealPurpose.KeyMaterial"/>
/// and context <c>"{keyId}/v{version}"</c> (docs/formats.md, "Wrapped key material"), so material moved
/// to another key or version row fails to open.</para>
/// <para>Thread-safe. It does not own the master keys: whoever unsealed them disposes them on seal.
/// New material is sealed under the current generation; stored material opens under any generation
/// the node holds (during a rekey). Keys returned by <see cref="OpenKey"/> and
/// <see cref="CreateHealthCheckKey"/> belong to the caller, who disposes them.</para>
/// </remarks>
public sealed class SoftwareCryptoBackend(MasterKeyGenerations masterKeys) : ICryptoBackend
{
    private readonly MasterKeyGenerations _masterKeys = masterKeys ?? throw new ArgumentNullException(nameof(masterKeys));
    private volatile bool _disposed;

    /// <summary>A backend with one master key and no other generation.</summary>
    public SoftwareCryptoBackend(MasterKey masterKey)
        : this(new MasterKeyGenerations(masterKey))
    {
    }

    public string Name => "software";

    /// <summary>The material carries no usage: Coffer enforces <paramref name="usage"/> at the XKS edge.</summary>
    public byte[] CreateKeyMaterial(string keyId, int version, KeyUsage usage)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var context = Context(keyId, version);
        Span<byte> key = stackalloc byte[AesGcmKey.KeySize];
        try
        {
            RandomNumberGenerator.Fill(key);
            return _masterKeys.Current.Seal(SealPurpose.KeyMaterial, context, key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    public IAeadKey OpenKey(string keyId, int version, byte[] storedMaterial)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(storedMaterial);
        var context = Context(keyId, version);
        var key = _masterKeys.Open(SealPurpose.KeyMaterial, context, storedMaterial);
        try
        {
            if (key.Length != AesGcmKey.KeySize)
            {
                throw new CryptoException("Stored key material has the wrong length.");
            }

            return new AesGcmKey(key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Nothing to do here: the wrapped material in the database is the only copy, and the
    /// storage erases it (<c>IKeyRepository.DestroyVersionAsync</c>); opened copies are zeroed when the
    /// key ring drops them.</summary>
    public bool DestroyKeyMaterial(string keyId, int version, byte[] storedMaterial)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(storedMaterial);
        _ = Context(keyId, version);
        return false;
    }

    public IAeadKey CreateHealthCheckKey()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return AesGcmKey.Generate();
    }

    /// <summary>Always refused: every key of this backend lives in the database, sealed by Coffer.</summary>
    public byte[] ImportKey(string label) =>
        throw new CryptoException("The software backend holds no keys outside Coffer to adopt; only an HSM key store can import one.");

    /// <summary>Always refused: this backend's keys are sealed under the master key a seal key would protect.</summary>
    public IAeadKey OpenSealKey(string label, bool create) =>
        throw new CryptoException("The software backend cannot hold a seal key: its keys depend on the master key that key would protect.");

    /// <summary>Nothing to do: this backend logs in nowhere, and it is disposed when Coffer seals.</summary>
    public void LogOut()
    {
    }

    public void Dispose() => _disposed = true;

    /// <summary>The context a version's material is sealed with: <c>"{keyId}/v{version}"</c>, unambiguous
    /// since the version is the digits after the last "/v".</summary>
    public static string Context(string keyId, int version)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        return string.Create(CultureInfo.InvariantCulture, $"{keyId}/v{version}");
    }
}
