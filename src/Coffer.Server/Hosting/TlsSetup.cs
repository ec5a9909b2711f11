using System.Net.Security;
using System.Runtime.Versioning;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Coffer.Server.Hosting;

/// <summary>TLS and mTLS for a listener, as the XKS spec's transport section asks.</summary>
internal static class TlsSetup
{
    [UnsupportedOSPlatform("windows")]
    private static CipherSuitesPolicy Suites => field ??= new CipherSuitesPolicy(
    [
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ]);

    public static HttpsConnectionAdapterOptions Create(TlsOptions tls, TimeProvider time)
    {
        var https = new HttpsConnectionAdapterOptions
        {
            ServerCertificate = LoadCertificate(tls),
            SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            ClientCertificateMode = ClientCertificateMode.NoCertificate,
            // XKS spec, "API content type": TLS 1.3 AES-256-GCM / ChaCha20, or TLS 1.2 ECDHE with AES-256-GCM.
            OnAuthenticate = (_, ssl) =>
            {
                if (!OperatingSystem.IsWindows())
                {
                    ssl.CipherSuitesPolicy = Suites;
                }
            },
        };

        // ListenerOptionsValidator made sure a client CA comes with the subject, and a PEM certificate with its key.
        if (tls.ClientCaPath is not null)
        {
            // Only the CA's certificate (PEM or DER): CreateFromPemFile would demand its private key too.
            var ca = X509CertificateLoader.LoadCertificateFromFile(tls.ClientCaPath);
            var subject = tls.ClientSubject!;
            https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
            // Returning false fails the handshake: a wrong CA, subject, expired or self-signed certificate never reaches HTTP.
            https.ClientCertificateValidation = (certificate, _, _) => ClientCertificateIsAllowed(certificate, ca, subject, time.GetUtcNow());
        }

        return https;
    }

    internal static bool ClientCertificateIsAllowed(X509Certificate2 certificate, X509Certificate2 ca, string subject, DateTimeOffset now)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        if (!chain.Build(certificate))
        {
            return false;
        }

        // The chain must end at the configured CA itself, not at some other root the system trusts.
        var root = chain.ChainElements[^1].Certificate;
        if (!root.RawDataMemory.Span.SequenceEqual(ca.RawDataMemory.Span) || certificate.RawDataMemory.Span.SequenceEqual(ca.RawDataMemory.Span))
        {
            return false;
        }

        var commonName = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        return string.Equals(subject, commonName, StringComparison.OrdinalIgnoreCase)
            || string.Equals(subject, certificate.SubjectName.Name, StringComparison.OrdinalIgnoreCase)
            || string.Equals(subject, "CN=" + commonName, StringComparison.OrdinalIgnoreCase);
    }

    private static X509Certificate2 LoadCertificate(TlsOptions tls)
    {
        var path = tls.CertificatePath!;
        if (tls.IsPkcs12)
        {
            var password = tls.PasswordEnvironmentVariable is null ? null : Environment.GetEnvironmentVariable(tls.PasswordEnvironmentVariable);
            return X509CertificateLoader.LoadPkcs12FromFile(path, password);
        }

        return X509Certificate2.CreateFromPemFile(path, tls.KeyPath);
    }
}
