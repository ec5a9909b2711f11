using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Coffer.Crypto;

/// <summary>
/// The byte formats of the XKS Encrypt and Decrypt operations (docs/formats.md): Coffer's
/// ciphertextMetadata, the AES-GCM AAD that binds it, and the ciphertext data integrity value.
/// </summary>
/// <remarks>All members are pure functions of their arguments and allocate nothing on the heap
/// except a pooled buffer for CDIV inputs too large for the stack.</remarks>
public static class XksCiphertext
{
    public const byte FormatV1 = 0x01;

    /// <summary>ciphertextMetadata of format 1: <c>0x01 || u32be(version)</c>.</summary>
    public const int MetadataLength = 5;

    public const int CdivLength = 32;

    /// <summary>Longest ciphertextMetadata that AWS KMS accepts (XKS spec, Encrypt, ciphertextMetadata).</summary>
    public const int MaxMetadataLength = 20;

    /// <summary>Largest additionalAuthenticatedData the AAD construction can carry (its u16 length prefix).</summary>
    public const int MaxAadLength = ushort.MaxValue;

    private const int StackLimit = 1024;

    /// <summary>Writes format-1 metadata for key <paramref name="version"/> (>= 1) into the first
    /// <see cref="MetadataLength"/> bytes of <paramref name="destination"/>.</summary>
    /// <remarks>The version travels with every ciphertext so a rotated key still decrypts what older
    /// versions encrypted (docs/design.md, "XKS ciphertextMetadata"); the format byte lets a later
    /// layout coexist (XKS spec, Encrypt: "encode the new behavior in the ciphertextMetadata").</remarks>
    public static void WriteMetadata(int version, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        if (destination.Length < MetadataLength)
        {
            CryptoThrowHelper.ThrowArgument(nameof(destination), "The destination is shorter than the metadata.");
        }

        destination[0] = FormatV1;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..MetadataLength], (uint)version);
    }

    /// <summary>Reads format-1 metadata; false for any other length, an unknown format byte or a
    /// version below 1 (such metadata was never issued by Coffer: InvalidCiphertextException).</summary>
    public static bool TryReadMetadata(ReadOnlySpan<byte> metadata, out int version)
    {
        version = 0;
        if (metadata.Length != MetadataLength || metadata[0] != FormatV1)
        {
            return false;
        }

        var value = BinaryPrimitives.ReadUInt32BigEndian(metadata[1..]);
        if (value is < 1 or > int.MaxValue)
        {
            return false;
        }

        version = (int)value;
        return true;
    }

    public static int AadLength(int aadLength, int metadataLength) => 2 + aadLength + 1 + metadataLength;

    /// <summary><c>u16be(len(aad)) || aad || u8(len(meta)) || meta</c> (XKS spec, Encrypt).</summary>
    /// <remarks>Both lengths are included so metadata cannot be moved into the AAD (or back) and still
    /// decrypt: the spec's example is a caller who passes the returned ciphertextMetadata as AAD.
    /// Absent fields are empty and their length byte(s) zero.</remarks>
    /// <exception cref="ArgumentException">aad over 65535 bytes, metadata over 255 bytes, or a
    /// destination not exactly <see cref="AadLength"/> bytes long.</exception>
    public static void BuildAad(ReadOnlySpan<byte> aad, ReadOnlySpan<byte> metadata, Span<byte> destination)
    {
        if (aad.Length > ushort.MaxValue)
        {
            CryptoThrowHelper.ThrowArgument(nameof(aad), "The AAD is longer than 65535 bytes.");
        }

        if (metadata.Length > byte.MaxValue)
        {
            CryptoThrowHelper.ThrowArgument(nameof(metadata), "The metadata is longer than 255 bytes.");
        }

        if (destination.Length != AadLength(aad.Length, metadata.Length))
        {
            CryptoThrowHelper.ThrowArgument(nameof(destination), "The destination length must be AadLength(aad, metadata).");
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)aad.Length);
        aad.CopyTo(destination[2..]);
        var offset = 2 + aad.Length;
        destination[offset] = (byte)metadata.Length;
        metadata.CopyTo(destination[(offset + 1)..]);
    }

    /// <summary>SHA-256(aad || meta || iv || ciphertext || tag) (XKS spec, Appendix C).</summary>
    /// <remarks>
    /// <paramref name="aad"/> is the caller's additionalAuthenticatedData as sent, not the
    /// length-prefixed AES-GCM AAD; no lengths enter the hash (Appendix C: the CDIV guards against
    /// accidental bit flips, not an adversary). Compute it before the verifying decrypt that the
    /// appendix requires, so corruption after that decrypt cannot go unnoticed.
    /// </remarks>
    public static void ComputeCdiv(ReadOnlySpan<byte> aad, ReadOnlySpan<byte> metadata, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> destination)
    {
        if (destination.Length != CdivLength)
        {
            CryptoThrowHelper.ThrowArgument(nameof(destination), "The destination must be 32 bytes.");
        }

        var length = aad.Length + metadata.Length + iv.Length + ciphertext.Length + tag.Length;
        byte[]? rented = null;
        var buffer = length <= StackLimit
            ? stackalloc byte[StackLimit]
            : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var input = buffer[..length];
            aad.CopyTo(input);
            var offset = aad.Length;
            metadata.CopyTo(input[offset..]);
            offset += metadata.Length;
            iv.CopyTo(input[offset..]);
            offset += iv.Length;
            ciphertext.CopyTo(input[offset..]);
            offset += ciphertext.Length;
            tag.CopyTo(input[offset..]);
            SHA256.HashData(input, destination);
        }
        finally
        {
            if (rented is not null)
            {
                // Nothing here is secret (AAD and ciphertext travel in the clear), so no clearing.
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
