using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Coffer.Server.WebConsole;

/// <summary>
/// One browser's login through the identity provider under way (docs/console.md, "Login through the
/// identity provider"): the <c>state</c> the callback must bring back, the <c>nonce</c> the ID token must
/// carry, and the PKCE <c>code_verifier</c> (RFC 7636) whose S256 challenge went to the IdP. All three are
/// random, 256 bits each, and live only in a short-lived HttpOnly cookie of the browser that started the
/// login: no node keeps anything, so any node of a cluster completes it.
/// </summary>
internal sealed record OidcLoginFlow(string State, string Nonce, string Verifier)
{
    private const int PartBytes = 32;

    public static OidcLoginFlow New() => new(Random(), Random(), Random());

    /// <summary>The flow a cookie holds, or null when it is not one (absent, cut, tampered with).</summary>
    public static OidcLoginFlow? Parse(string? cookie)
    {
        var parts = cookie?.Split('.');
        return parts is [var state, var nonce, var verifier] && IsPart(state) && IsPart(nonce) && IsPart(verifier)
            ? new OidcLoginFlow(state, nonce, verifier)
            : null;
    }

    public string Cookie => State + "." + Nonce + "." + Verifier;

    /// <summary>RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))).</summary>
    public string Challenge => Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(Verifier)));

    public override string ToString() => "OidcLoginFlow"; // never the secrets, should one reach a log

    private static string Random() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(PartBytes));

    // 32 bytes are 43 base64url characters; RFC 7636 allows verifiers of 43..128 of them.
    private static bool IsPart(string part) => part.Length == 43 && Base64Url.IsValid(part);
}
