using System.Net;
using Microsoft.Extensions.Options;

namespace Coffer.Server.Hosting;

/// <summary>Both listeners' addresses, ports and TLS, and the XKS request limits.</summary>
internal sealed class ListenerOptionsValidator : IValidateOptions<CofferOptions>
{
    public ValidateOptionsResult Validate(string? name, CofferOptions options)
    {
        var problems = new OptionsProblems();
        var xks = options.Xks;
        Listener(problems, "Xks", xks);
        Listener(problems, "Admin", options.Admin);
        problems.Require(xks.Tls.Enabled || xks.AllowPlainHttp,
            "Xks:Tls:CertificatePath is required: AWS KMS only calls HTTPS. Set Xks:AllowPlainHttp only behind your own TLS terminator.");
        problems.Require(xks.MaxPlaintextBytes >= 4300, $"Xks:MaxPlaintextBytes must be at least 4300 (the XKS spec's minimum), not {xks.MaxPlaintextBytes}.");
        problems.Require(xks.MaxAadBytes is >= 8192 and <= 65535,
            $"Xks:MaxAadBytes must be 8192..65535 (the XKS spec's minimum; the AAD's length prefix has 16 bits), not {xks.MaxAadBytes}.");
        problems.Require(xks.MaxEncryptionsPerKeyVersion is >= 1 and <= XksListenerOptions.NistRandomIvLimit,
            $"Xks:MaxEncryptionsPerKeyVersion must be 1..4294967296 (2^32, NIST SP 800-38D's bound for random IVs), not {xks.MaxEncryptionsPerKeyVersion}.");
        problems.Require(xks.UnauthenticatedPerSecondPerSource >= 0, "Xks:UnauthenticatedPerSecondPerSource must be 0 (off) or more.");
        problems.Require(xks.RequestsPerSecondPerKeyStore >= 0, "Xks:RequestsPerSecondPerKeyStore must be 0 (off) or more.");
        return problems.Result;
    }

    private static void Listener(OptionsProblems problems, string path, ListenerOptions listener)
    {
        problems.Require(listener.Address is "localhost" or "*" or "" || IPAddress.TryParse(listener.Address, out _),
            $"{path}:Address must be an IP address, 'localhost' or '*' (every address), not '{listener.Address}'.");
        problems.Require(listener.Port is >= 0 and <= 65535, $"{path}:Port must be between 0 (a free port) and 65535, not {listener.Port}.");
        var tls = listener.Tls;
        problems.Require(!tls.Enabled || tls.IsPkcs12 || tls.KeyPath is not null, $"{path}:Tls:KeyPath is required with a PEM certificate: its private key file.");

        problems.Require(tls.ClientCaPath is null || tls.Enabled, $"{path}:Tls:ClientCaPath (mTLS) needs {path}:Tls:CertificatePath.");
        problems.Require(tls.ClientCaPath is null || !string.IsNullOrWhiteSpace(tls.ClientSubject),
            $"{path}:Tls:ClientSubject is required with a client CA: the subject client certificates must carry (AWS presents CN=cks.kms.<region>.amazonaws.com).");
    }

}
