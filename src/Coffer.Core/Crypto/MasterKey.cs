namespace Coffer.Crypto;

// SIGNATURE STUB — implemented by the crypto work (see the contract in each doc comment).
public sealed class MasterKey : IDisposable
{
    public const int Size = 32;

    /// <summary>A new random master key (CSPRNG).</summary>
    public static MasterKey Generate() => throw new NotImplementedException();

    /// <summary>Copies <paramref name="key"/> (32 bytes) into a pinned buffer.</summary>
    public static MasterKey FromBytes(ReadOnlySpan<byte> key) => throw new NotImplementedException();

    /// <summary>A copy of the raw key for Shamir splitting or the dev seal file; the caller zeroes it.</summary>
    public byte[] Export() => throw new NotImplementedException();

    /// <summary>Seals data for storage; bound to purpose and context (see docs/formats.md).</summary>
    public byte[] Seal(string purpose, string context, ReadOnlySpan<byte> plaintext) => throw new NotImplementedException();

    /// <summary>Opens what <see cref="Seal"/> made with the same purpose and context, else throws
    /// <see cref="CryptoException"/>. The caller zeroes the result when it is secret.</summary>
    public byte[] Open(string purpose, string context, ReadOnlySpan<byte> sealedData) => throw new NotImplementedException();

    /// <summary>A value stored at init that proves a reconstructed master key is the right one.</summary>
    public byte[] CreateCheckValue() => throw new NotImplementedException();

    public bool MatchesCheckValue(ReadOnlySpan<byte> checkValue) => throw new NotImplementedException();

    public void Dispose() { }
}

/// <summary>The purposes under which the master key seals data; each gets its own HKDF subkey.</summary>
public static class SealPurpose
{
    public const string KeyMaterial = "key-material";
    public const string SigV4Secret = "sigv4-secret";
    public const string MasterCheck = "master-check";
}
