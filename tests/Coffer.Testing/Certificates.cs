using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Coffer.Testing;

/// <summary>A certificate with its private key, also written as PEM files (for Kestrel, curl, openssl).</summary>
public sealed record PemCertificate(X509Certificate2 Certificate, string CertificatePath, string KeyPath);

/// <summary>
/// A throw-away PKI for TLS and mTLS tests, made in code with <see cref="CertificateRequest"/> in a
/// temp directory: a CA, a server certificate for <c>localhost</c>/<c>127.0.0.1</c>, and the client
/// certificates an mTLS check must tell apart (XKS spec, "Authentication": AWS presents
/// <c>CN=cks.kms.&lt;region&gt;.amazonaws.com</c>; another subject or CA must fail the handshake).
/// </summary>
public sealed class Certificates : IDisposable
{
    public const string AwsClientSubject = "CN=cks.kms.eu-west-1.amazonaws.com";

    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    private Certificates(string directory) => Directory = directory;

    /// <summary>Where the PEM files live; deleted on <see cref="Dispose"/>.</summary>
    public string Directory { get; }

    /// <summary>The CA the server trusts for client certificates and the tests trust for the server.</summary>
    public required PemCertificate Ca { get; init; }

    /// <summary>RSA 2048 server certificate for localhost and 127.0.0.1, signed by <see cref="Ca"/>
    /// (RSA, so the TLS 1.2 suites ECDHE-RSA-* apply).</summary>
    public required PemCertificate Server { get; init; }

    /// <summary><see cref="AwsClientSubject"/>, signed by <see cref="Ca"/>, clientAuth EKU: the one that must pass.</summary>
    public required PemCertificate GoodClient { get; init; }

    /// <summary>Signed by <see cref="Ca"/> but for CN=someone-else.example.</summary>
    public required PemCertificate WrongSubjectClient { get; init; }

    /// <summary>Right subject, signed by <see cref="Ca"/>, but valid only in the past.</summary>
    public required PemCertificate ExpiredClient { get; init; }

    /// <summary>Right subject, signed by <see cref="Ca"/>, but its extended key usage is serverAuth only.</summary>
    public required PemCertificate ServerAuthOnlyClient { get; init; }

    /// <summary>Right subject, self-signed.</summary>
    public required PemCertificate SelfSignedClient { get; init; }

    /// <summary>Right subject, signed by another CA that even carries the trusted CA's name.</summary>
    public required PemCertificate OtherCaClient { get; init; }

    /// <summary>Creates the whole PKI; <paramref name="now"/> anchors every validity period.</summary>
    public static Certificates Create(DateTimeOffset? now = null)
    {
        var at = now ?? DateTimeOffset.UtcNow;
        var directory = System.IO.Directory.CreateTempSubdirectory("coffer-pki-").FullName;
        const string caName = "CN=Coffer Test CA, O=Coffer Tests";

        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ca = CreateCa(caName, caKey, at);
        using var otherCaKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var otherCa = CreateCa(caName, otherCaKey, at);

        return new Certificates(directory)
        {
            Ca = Write(directory, "ca", ca, key: null),
            Server = Write(directory, "server", IssueServer(ca, at), "server"),
            GoodClient = Write(directory, "client-good", IssueClient(ca, AwsClientSubject, at.AddDays(-1), at.AddDays(30)), "client-good"),
            WrongSubjectClient = Write(directory, "client-wrong-subject", IssueClient(ca, "CN=someone-else.example", at.AddDays(-1), at.AddDays(30)), "client-wrong-subject"),
            ExpiredClient = Write(directory, "client-expired", IssueClient(ca, AwsClientSubject, at.AddDays(-30), at.AddDays(-1)), "client-expired"),
            ServerAuthOnlyClient = Write(directory, "client-server-auth-only", IssueClient(ca, AwsClientSubject, at.AddDays(-1), at.AddDays(30), ServerAuthOid), "client-server-auth-only"),
            SelfSignedClient = Write(directory, "client-self-signed", SelfSignedClientCertificate(at), "client-self-signed"),
            OtherCaClient = Write(directory, "client-other-ca", IssueClient(otherCa, AwsClientSubject, at.AddDays(-1), at.AddDays(30)), "client-other-ca"),
        };
    }

    /// <summary>True when <paramref name="certificate"/> chains to <see cref="Ca"/> alone (not to any system root).</summary>
    public bool IsIssuedByCa(X509Certificate? certificate)
    {
        if (certificate is null)
        {
            return false;
        }

        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Ca.Certificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(leaf);
    }

    public void Dispose()
    {
        foreach (var pem in new[] { Ca, Server, GoodClient, WrongSubjectClient, ExpiredClient, ServerAuthOnlyClient, SelfSignedClient, OtherCaClient })
        {
            pem.Certificate.Dispose();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static X509Certificate2 CreateCa(string name, ECDsa key, DateTimeOffset at)
    {
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        return request.CreateSelfSigned(at.AddYears(-1), at.AddYears(5));
    }

    private static X509Certificate2 IssueServer(X509Certificate2 ca, DateTimeOffset at)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuthOid)], critical: false));
        // An RSA certificate under an ECDSA CA: sign with the CA's key explicitly.
        using var caKey = ca.GetECDsaPrivateKey()!;
        using var issued = request.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), at.AddDays(-1), at.AddDays(30), NewSerial());
        return issued.CopyWithPrivateKey(key);
    }

    private static X509Certificate2 IssueClient(X509Certificate2 ca, string subject, DateTimeOffset notBefore, DateTimeOffset notAfter, string usage = ClientAuthOid)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = ClientRequest(subject, key, usage);
        using var issued = request.Create(ca, notBefore, notAfter, NewSerial());
        return issued.CopyWithPrivateKey(key);
    }

    private static X509Certificate2 SelfSignedClientCertificate(DateTimeOffset at)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return ClientRequest(AwsClientSubject, key).CreateSelfSigned(at.AddDays(-1), at.AddDays(30));
    }

    private static CertificateRequest ClientRequest(string subject, ECDsa key, string usage = ClientAuthOid)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], critical: false));
        return request;
    }

    private static byte[] NewSerial() => RandomNumberGenerator.GetBytes(16);

    private static PemCertificate Write(string directory, string name, X509Certificate2 certificate, string? key)
    {
        var certificatePath = Path.Combine(directory, name + ".pem");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem() + "\n");
        var keyPath = string.Empty;
        if (key is not null)
        {
            keyPath = Path.Combine(directory, key + ".key");
            using AsymmetricAlgorithm privateKey = (AsymmetricAlgorithm?)certificate.GetRSAPrivateKey() ?? certificate.GetECDsaPrivateKey()!;
            var pem = privateKey.ExportPkcs8PrivateKeyPem();
            File.WriteAllText(keyPath, pem + "\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        // The CA's private key never leaves memory; only the public certificate is kept for it.
        return new PemCertificate(key is null ? X509CertificateLoader.LoadCertificate(certificate.RawData) : certificate, certificatePath, keyPath);
    }
}
