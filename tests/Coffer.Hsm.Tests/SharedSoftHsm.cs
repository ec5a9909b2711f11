using Coffer.Testing;

namespace Coffer.Hsm.Tests;

/// <summary>A SoftHSM2 token and a pkcs11 backend on it, shared by one test class.</summary>
public sealed class SharedSoftHsm : IDisposable
{
    public SharedSoftHsm()
    {
        Token = SoftHsmToken.Create();
        Backend = new Pkcs11CryptoBackend(Options(Token));
    }

    public SoftHsmToken Token { get; }

    internal Pkcs11CryptoBackend Backend { get; }

    public static Pkcs11Options Options(SoftHsmToken token, int poolSize = 8, int timeoutMs = 2000) => new()
    {
        ModulePath = SoftHsmToken.ModulePath,
        TokenLabel = token.TokenLabel,
        PinFile = token.PinFile,
        SessionPoolSize = poolSize,
        SessionTimeoutMs = timeoutMs,
    };

    public void Dispose()
    {
        Backend.Dispose();
        Token.Dispose();
    }
}
