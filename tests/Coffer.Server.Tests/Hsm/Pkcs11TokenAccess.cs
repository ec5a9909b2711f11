using Coffer.Hsm;
using Coffer.Server.Seal;

namespace Coffer.Server.Tests.Hsm;

/// <summary>The server reaches its PKCS#11 backend only through <c>ICryptoBackend</c>; tests that act on
/// the token behind its back (make a key to import, hold every session) reach the token here.</summary>
internal static class Pkcs11TokenAccess
{
    public static Pkcs11Token Pkcs11Token(this SealManager seal) =>
        ((Pkcs11CryptoBackend)(seal.Pkcs11 ?? throw new InvalidOperationException("The node has no pkcs11 backend."))).Token;
}
