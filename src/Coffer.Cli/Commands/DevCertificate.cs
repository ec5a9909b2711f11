using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Coffer.Cli.Commands;

/// <summary>The self-signed TLS certificate of <c>coffer dev --tls</c>, made once into the data directory.</summary>
internal static class DevCertificate
{
    public static (string Certificate, string Key) Ensure(string dataDirectory)
    {
        var cert = Path.Combine(dataDirectory, "tls.crt");
        var key = Path.Combine(dataDirectory, "tls.key");
        if (File.Exists(cert) && File.Exists(key))
        {
            return (cert, key);
        }

        Directory.CreateDirectory(dataDirectory);
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", ecdsa, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(1));
        File.WriteAllText(key, ecdsa.ExportPkcs8PrivateKeyPem());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.WriteAllText(cert, created.ExportCertificatePem());
        return (cert, key);
    }
}
