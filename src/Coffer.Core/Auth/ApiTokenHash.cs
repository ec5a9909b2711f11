using System.Security.Cryptography;
using System.Text;

namespace Coffer.Auth;

/// <summary>How a bearer token is stored and looked up: SHA-256 of its UTF-8 text.</summary>
public static class ApiTokenHash
{
    public static byte[] Of(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
