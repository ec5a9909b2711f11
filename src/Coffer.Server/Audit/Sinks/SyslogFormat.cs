using System.Buffers;
using System.Globalization;
using System.Text;
using Coffer.Audit;

namespace Coffer.Server.Audit.Sinks;

/// <summary>
/// An audit record as an RFC 5424 syslog message in an octet-counted frame (RFC 6587 §3.4.1):
/// <code>
/// MSG-LEN SP "&lt;" PRI "&gt;1" SP TIMESTAMP SP HOSTNAME SP "coffer" SP PROCID SP MSGID SP
///     "[coffer@32473 seq=\"…\" …]" SP BOM JSON
/// </code>
/// PRI = facility × 8 + severity (ok → informational, requested → notice, denied → warning,
/// error → error); HOSTNAME is the record's node, MSGID its action, MSG the record as JSON lines
/// export writes it. 32473 is the private enterprise number RFC 5612 sets aside for examples.
/// </summary>
internal static class SyslogFormat
{
    public const string AppName = "coffer";
    public const string SdId = "coffer@32473";

    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];

    private static readonly string[] FacilityNames =
    [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
        "ntp", "security", "console", "solaris-cron", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
    ];

    /// <summary>A facility by its usual name or number 0..23 (RFC 5424 §6.2.1, table 1).</summary>
    public static bool TryParseFacility(string? text, out int facility)
    {
        facility = text is null ? -1 : Array.IndexOf(FacilityNames, text.Trim().ToLowerInvariant());
        if (facility < 0 && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number is >= 0 and <= 23)
        {
            facility = number;
        }

        return facility >= 0;
    }

    /// <summary>RFC 5424 §6.2.1 severities: 3 error, 4 warning, 5 notice, 6 informational.</summary>
    public static int Severity(AuditOutcome outcome) => outcome switch
    {
        AuditOutcome.Ok => 6,
        AuditOutcome.Requested => 5,
        AuditOutcome.Denied => 4,
        _ => 3,
    };

    /// <summary>Appends the framed message of <paramref name="record"/> to <paramref name="output"/>.</summary>
    public static void WriteFrame(ArrayBufferWriter<byte> output, AuditRecord record, int facility, string procId)
    {
        var message = new ArrayBufferWriter<byte>(1024);
        var e = record.Event;
        var header = new StringBuilder(512)
            .Append('<').Append((facility * 8) + Severity(e.Outcome)).Append(">1 ")
            .Append(record.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)).Append(' ')
            .Append(HeaderField(record.Node, 255)).Append(' ')
            .Append(AppName).Append(' ')
            .Append(HeaderField(procId, 128)).Append(' ')
            .Append(HeaderField(e.Action, 32)).Append(' ')
            .Append('[').Append(SdId);
        Param(header, "seq", record.Sequence.ToString(CultureInfo.InvariantCulture));
        Param(header, "outcome", AuditOutcomes.ToText(e.Outcome));
        Param(header, "errorName", e.ErrorName);
        Param(header, "actorKind", e.ActorKind);
        Param(header, "actorId", e.ActorId);
        Param(header, "keyStore", e.KeyStore);
        Param(header, "keyId", e.KeyId);
        Param(header, "keyVersion", e.KeyVersion?.ToString(CultureInfo.InvariantCulture));
        Param(header, "sourceIp", e.SourceIp);
        Param(header, "kmsRequestId", e.KmsRequestId);
        Param(header, "kmsOperation", e.KmsOperation);
        Param(header, "awsPrincipalArn", e.AwsPrincipalArn);
        Param(header, "awsAccount", e.AwsAccount);
        Param(header, "awsRegion", e.AwsRegion);
        Param(header, "hash", Convert.ToHexStringLower(record.Hash));
        header.Append("] ");

        Encoding.UTF8.GetBytes(header.ToString(), message);
        message.Write(Bom);
        AuditJsonLine.Write(message, record);

        Encoding.ASCII.GetBytes(message.WrittenCount.ToString(CultureInfo.InvariantCulture) + " ", output);
        output.Write(message.WrittenSpan);
    }

    /// <summary>HOSTNAME, PROCID and MSGID are 1..max printable US-ASCII characters or "-" (RFC 5424
    /// §6.2): anything else becomes '_' so a node name or action can never shift the fields.</summary>
    internal static string HeaderField(string? value, int max)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "-";
        }

        var chars = value.Length > max ? value.AsSpan(0, max).ToArray() : value.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (chars[i] is < '!' or > '~')
            {
                chars[i] = '_';
            }
        }

        return new string(chars);
    }

    /// <summary>A PARAM-VALUE escapes '"', '\' and ']' with a backslash (RFC 5424 §6.3.3); null is left out.</summary>
    private static void Param(StringBuilder sd, string name, string? value)
    {
        if (value is null)
        {
            return;
        }

        sd.Append(' ').Append(name).Append("=\"");
        foreach (var c in value)
        {
            if (c is '"' or '\\' or ']')
            {
                sd.Append('\\');
            }

            sd.Append(c);
        }

        sd.Append('"');
    }
}
