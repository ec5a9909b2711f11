namespace Coffer.Crypto;

// SIGNATURE STUB — implemented by the crypto work.
public sealed class SoftwareCryptoBackend(MasterKey masterKey) : ICryptoBackend
{
    public string Name => "software";

    public byte[] CreateKeyMaterial(string keyId, int version) => throw new NotImplementedException(masterKey.ToString());

    public IAeadKey OpenKey(string keyId, int version, byte[] storedMaterial) => throw new NotImplementedException();

    public IAeadKey CreateHealthCheckKey() => throw new NotImplementedException();

    public void Dispose() { }
}
