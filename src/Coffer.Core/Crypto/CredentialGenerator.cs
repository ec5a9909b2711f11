namespace Coffer.Crypto;

// SIGNATURE STUB — implemented by the crypto work.
public static class CredentialGenerator
{
    public static string NewAccessKeyId() => throw new NotImplementedException();

    public static string NewSecretAccessKey() => throw new NotImplementedException();

    public static string NewApiToken() => throw new NotImplementedException();

    public static string NewId(string prefix) => throw new NotImplementedException();
}
