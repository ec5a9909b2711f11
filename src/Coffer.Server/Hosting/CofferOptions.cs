namespace Coffer.Server.Hosting;

/// <summary>
/// Coffer's configuration: a JSON file plus <c>COFFER_</c> environment overrides
/// (e.g. <c>COFFER_Xks__Port=9443</c>). Every member is documented in docs/configuration.md.
/// </summary>
public sealed class CofferOptions
{
    /// <summary>Where the database and generated files live.</summary>
    public string DataDirectory { get; set; } = "coffer-data";

    /// <summary>SQLite database file; defaults to <c>coffer.db</c> in the data directory.</summary>
    public string? DatabasePath { get; set; }

    /// <summary>The storage engine: SQLite in the data directory (default) or a shared PostgreSQL.</summary>
    public StorageOptions Storage { get; set; } = new();

    /// <summary><c>shamir</c> (shares held by people), <c>pkcs11</c> (the master key encrypted by a key
    /// in the HSM of <see cref="Pkcs11"/>; unseals itself) or <c>dev</c> (master key in a file).</summary>
    public string Seal { get; set; } = "shamir";

    /// <summary>The dev seal's master key file; defaults to <c>master.key</c> in the data directory.</summary>
    public string? DevMasterKeyPath { get; set; }

    /// <summary>Names this node in audit records, the cluster registry, XKS health answers and logs: a
    /// token of letters, digits, '.', '_' and '-'; by default derived from the host name
    /// (<see cref="Coffer.Server.Cluster.NodeIdentity"/>). Unique per live node (docs/cluster.md).</summary>
    public string NodeId { get; set; } = Coffer.Server.Cluster.NodeIdentity.FromHostName(Environment.MachineName);

    public XksListenerOptions Xks { get; set; } = new();

    /// <summary>The PKCS#11 token that holds the keys of <c>pkcs11</c> key stores (docs/pkcs11.md);
    /// none when absent.</summary>
    public Coffer.Hsm.Pkcs11Options? Pkcs11 { get; set; }

    /// <summary>Label of the HSM key that encrypts the master key under the <c>pkcs11</c> seal.</summary>
    public string Pkcs11SealKeyLabel { get; set; } = Coffer.Server.Seal.Pkcs11Seal.DefaultLabel;

    public ListenerOptions Admin { get; set; } = new() { Address = "127.0.0.1", Port = 8444 };

    /// <summary>Audit sinks besides the database: syslog and a JSON-lines file, both off by default.</summary>
    public AuditOptions Audit { get; set; } = new();

    /// <summary>How webhook alerts are delivered (the webhooks themselves are managed through the API).</summary>
    public AlertOptions Alerts { get; set; } = new();

    /// <summary>Management login with the organisation's identity provider (OIDC bearer JWTs); off when absent.</summary>
    public OidcOptions? Oidc { get; set; }

    /// <summary>How this node keeps its caches in step with the database, and the timing of its
    /// heartbeat and the leader lease (docs/cluster.md).</summary>
    public ClusterOptions Cluster { get; set; } = new();

    /// <summary>Metrics and traces sent to an OpenTelemetry collector (OTLP); off by default.</summary>
    public Coffer.Server.Telemetry.TelemetryOptions Telemetry { get; set; } = new();

    internal string ResolvedDatabasePath => DatabasePath ?? Path.Combine(DataDirectory, "coffer.db");

    internal string ResolvedAuditArchiveDirectory => Audit.ArchiveDirectory ?? Path.Combine(DataDirectory, "audit-archives");

    internal string ResolvedDevMasterKeyPath => DevMasterKeyPath ?? Path.Combine(DataDirectory, "master.key");
}

public class ListenerOptions
{
    public string Address { get; set; } = "0.0.0.0";

    /// <summary>0 picks a free port (tests).</summary>
    public int Port { get; set; }

    public TlsOptions Tls { get; set; } = new();
}

public sealed class TlsOptions
{
    /// <summary>PEM certificate (chain) file, or a PKCS#12 file when it ends in .pfx/.p12.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM private key file (for a PEM certificate).</summary>
    public string? KeyPath { get; set; }

    /// <summary>Environment variable holding the PKCS#12 password, never the password itself.</summary>
    public string? PasswordEnvironmentVariable { get; set; }

    /// <summary>CA certificate (PEM) that client certificates must chain to; enables mTLS.</summary>
    public string? ClientCaPath { get; set; }

    /// <summary>Required client certificate subject, e.g. <c>CN=cks.kms.eu-west-1.amazonaws.com</c>
    /// or just the common name.</summary>
    public string? ClientSubject { get; set; }

    public bool Enabled => CertificatePath is not null;

    internal bool IsPkcs12 => CertificatePath is { } path
        && (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase));
}

public sealed class XksListenerOptions : ListenerOptions
{
    public XksListenerOptions() => Port = 8443;

    /// <summary>Serve XKS over plain HTTP. AWS KMS only speaks HTTPS; use this only behind a
    /// TLS-terminating proxy you control, or for development.</summary>
    public bool AllowPlainHttp { get; set; }

    /// <summary>Largest plaintext (and ciphertext) accepted; the spec's minimum is 4300 bytes.</summary>
    public int MaxPlaintextBytes { get; set; } = 65536;

    /// <summary>Largest AAD accepted; the spec's minimum is 8192 bytes, the AAD construction's
    /// 16-bit length prefix caps it at 65535.</summary>
    public int MaxAadBytes { get; set; } = 65535;

    /// <summary>Per key store quota in requests per second (token bucket); 0 turns it off.</summary>
    public int RequestsPerSecondPerKeyStore { get; set; }

    /// <summary>Requests per second that fail before authentication one source address (an IPv6 /64)
    /// may send to one key store (or to unknown prefixes) before its requests there answer
    /// ThrottlingException at once (token bucket of as many tokens); 0 turns it off.</summary>
    public int UnauthenticatedPerSecondPerSource { get; set; } = 100;

    /// <summary>How long a deep health result is reused (the spec allows at most 60 s).</summary>
    public int HealthCacheSeconds { get; set; } = 15;

    /// <summary>Most encryptions one key version makes (each with a random 96-bit IV); NIST SP 800-38D
    /// allows at most 2^32, the default. A lower value makes keys rotate sooner; then encrypt answers
    /// InvalidStateException until the key is rotated (Xks/EncryptionBudgets.cs).</summary>
    public long MaxEncryptionsPerKeyVersion { get; set; } = NistRandomIvLimit;

    /// <summary>NIST SP 800-38D, 8.3: invocations of GCM with one key and random IVs.</summary>
    internal const long NistRandomIvLimit = 1L << 32;

    /// <summary>Largest request body, derived from the payload limits (Base64 grows by 4/3).</summary>
    internal int MaxRequestBytes => ((MaxPlaintextBytes + MaxAadBytes + 64) / 3 * 4) + 16384;
}
