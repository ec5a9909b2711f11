namespace Coffer.Crypto;

// SIGNATURE STUB — implemented by the crypto work.
public static class Shamir
{
    public static IReadOnlyList<string> Split(ReadOnlySpan<byte> secret, int shares, int threshold) => throw new NotImplementedException();

    public static byte[] Combine(IReadOnlyList<string> shares) => throw new NotImplementedException();
}
