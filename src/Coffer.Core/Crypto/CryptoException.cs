namespace Coffer.Crypto;

/// <summary>
/// The one failure type of the crypto layer (docs/style.md, practice 6). Its message never carries
/// key material, plaintext or secrets; the XKS and management edges map it to their own errors.
/// </summary>
public sealed class CryptoException : Exception
{
    public CryptoException(string message) : base(message) { }

    public CryptoException(string message, Exception inner) : base(message, inner) { }

    public CryptoException() { }
}
