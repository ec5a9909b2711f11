namespace Coffer.Server.Hosting;

/// <summary>
/// Where the audit log is forwarded besides the database (docs/audit.md, "Audit sinks"). Both sinks are off
/// by default; each reads the durable chain behind its own cursor, so none is on the hot path.
/// </summary>
public sealed class AuditOptions
{
    public SyslogSinkOptions Syslog { get; set; } = new();

    public FileSinkOptions File { get; set; } = new();

    /// <summary>Where <c>coffer audit archive</c> writes archive files; default <c>audit-archives</c> in
    /// the data directory. Keep them (or copies) as long as the records must be provable.</summary>
    public string? ArchiveDirectory { get; set; }

    /// <summary>Automatic retention into archives; off by default (docs/audit-retention.md).</summary>
    public Coffer.Server.Audit.Retention.AuditRetentionOptions Retention { get; set; } = new();
}

/// <summary>What every sink shares: on/off and how much it sends at a time.</summary>
public abstract class AuditSinkOptions
{
    public bool Enabled { get; set; }

    /// <summary>Most records delivered (and confirmed) at once.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>How often a caught-up sink looks for new records.</summary>
    public int PollMilliseconds { get; set; } = 250;

    /// <summary>The longest wait between retries of a failing sink (the wait doubles from 250 ms).</summary>
    public int MaxRetryDelaySeconds { get; set; } = 30;
}

/// <summary>RFC 5424 messages over TCP with octet-counting framing (RFC 6587 §3.4.1), optionally TLS (RFC 5425).</summary>
public sealed class SyslogSinkOptions : AuditSinkOptions
{
    public string? Host { get; set; }

    /// <summary>6514 is the TLS port of RFC 5425; plain TCP syslog commonly listens on 514 or 601.</summary>
    public int Port { get; set; } = 6514;

    /// <summary>RFC 5425 transport. Off only for a receiver on a network you trust.</summary>
    public bool Tls { get; set; } = true;

    /// <summary>PEM CA certificate the receiver's certificate must chain to; the system store when null.</summary>
    public string? CaPath { get; set; }

    /// <summary>The name the receiver's certificate must carry; <see cref="Host"/> when null.</summary>
    public string? ServerName { get; set; }

    /// <summary>Client certificate (PEM, or PKCS#12 when it ends in .pfx/.p12) for receivers that want one.</summary>
    public string? ClientCertificatePath { get; set; }

    /// <summary>PEM private key of a PEM client certificate.</summary>
    public string? ClientKeyPath { get; set; }

    /// <summary>Environment variable holding the PKCS#12 password, never the password itself.</summary>
    public string? ClientPasswordEnvironmentVariable { get; set; }

    /// <summary>RFC 5424 facility by name (<c>authpriv</c>, <c>local0</c>..<c>local7</c>, ...) or number 0..23.
    /// authpriv (10): audit records are security/authorization messages, and syslog daemons keep that
    /// facility in a file only administrators read.</summary>
    public string Facility { get; set; } = "authpriv";

    /// <summary>How long connecting, the TLS handshake or writing one batch may take.</summary>
    public int TimeoutSeconds { get; set; } = 10;
}

/// <summary>One JSON object per line, appended and fsync'd per batch, rotated by size.</summary>
public sealed class FileSinkOptions : AuditSinkOptions
{
    /// <summary>The live file; <c>audit.jsonl</c> in the data directory when null. Rotated files get .1, .2, ...</summary>
    public string? Path { get; set; }

    /// <summary>Rotate when the next batch would make the file larger than this.</summary>
    public long MaxFileBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>Rotated files kept (<c>.1</c> newest); older ones are deleted.</summary>
    public int KeepFiles { get; set; } = 10;
}
