namespace Coffer.Crypto;

// SIGNATURE STUB — implemented by the crypto work.
public static class XksCiphertext
{
    public const byte FormatV1 = 0x01;

    /// <summary>ciphertextMetadata of format 1: <c>0x01 || u32be(version)</c>.</summary>
    public const int MetadataLength = 5;

    public const int CdivLength = 32;

    public static void WriteMetadata(int version, Span<byte> destination) => throw new NotImplementedException();

    public static bool TryReadMetadata(ReadOnlySpan<byte> metadata, out int version) => throw new NotImplementedException();

    public static int AadLength(int aadLength, int metadataLength) => 2 + aadLength + 1 + metadataLength;

    /// <summary><c>u16be(len(aad)) || aad || u8(len(meta)) || meta</c> (XKS spec, Encrypt).</summary>
    public static void BuildAad(ReadOnlySpan<byte> aad, ReadOnlySpan<byte> metadata, Span<byte> destination) => throw new NotImplementedException();

    /// <summary>SHA-256(aad || meta || iv || ciphertext || tag) (XKS spec, Appendix C).</summary>
    public static void ComputeCdiv(ReadOnlySpan<byte> aad, ReadOnlySpan<byte> metadata, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> destination) => throw new NotImplementedException();
}
