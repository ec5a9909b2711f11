using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Coffer.Audit;

namespace Coffer.Server.Audit;

/// <summary>
/// One audit record as an ArcSight Common Event Format line (CEF:0) for a SIEM, mapped as
/// docs/formats.md ("Audit export") lists. Every value is escaped the way CEF requires, so a field
/// that AWS or a caller controls (a principal ARN, a request id) cannot forge another field or line.
/// </summary>
internal static class AuditCef
{
    public static string Format(AuditRecord record, string version)
    {
        ArgumentNullException.ThrowIfNull(record);
        var e = record.Event;
        var line = new StringBuilder(512);
        line.Append("CEF:0|Coffer|Coffer|").Append(Header(version)).Append('|')
            .Append(Header(e.Action)).Append('|').Append(Header(e.Action)).Append('|')
            .Append(Severity(e.Outcome).ToString(CultureInfo.InvariantCulture)).Append('|');

        var first = true;
        void Add(string key, string? value)
        {
            if (value is null)
            {
                return;
            }

            if (!first)
            {
                line.Append(' ');
            }

            first = false;
            line.Append(key).Append('=').Append(Value(value));
        }

        Add("rt", record.Time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        Add("externalId", record.Sequence.ToString(CultureInfo.InvariantCulture));
        Add("dvchost", record.Node);
        Add("act", e.Action);
        Add("outcome", AuditOutcomes.ToText(e.Outcome));
        Add("cat", e.ErrorName);
        Add("reason", e.Reason);
        Add("cs1Label", e.ActorKind is null ? null : "actorKind");
        Add("cs1", e.ActorKind);
        Add("suser", e.ActorId);
        if (e.SourceIp is not null && IPAddress.TryParse(e.SourceIp, out var ip))
        {
            if (ip.AddressFamily == AddressFamily.InterNetworkV6)
            {
                // CEF's src holds IPv4 only; IPv6 goes to the custom IPv6 field.
                Add("c6a1Label", "sourceIp");
                Add("c6a1", e.SourceIp);
            }
            else
            {
                Add("src", e.SourceIp);
            }
        }

        Add("cs2Label", e.KeyStore is null ? null : "keyStore");
        Add("cs2", e.KeyStore);
        Add("cs3Label", e.KeyId is null ? null : "keyId");
        Add("cs3", e.KeyId);
        Add("cn1Label", e.KeyVersion is null ? null : "keyVersion");
        Add("cn1", e.KeyVersion?.ToString(CultureInfo.InvariantCulture));
        Add("cfp1Label", e.LatencyMs is null ? null : "latencyMs");
        Add("cfp1", e.LatencyMs?.ToString("0.###", CultureInfo.InvariantCulture));
        Add("cs4Label", e.KmsRequestId is null ? null : "kmsRequestId");
        Add("cs4", e.KmsRequestId);
        Add("cs5Label", e.AwsPrincipalArn is null ? null : "awsPrincipalArn");
        Add("cs5", e.AwsPrincipalArn);
        Add("cs6Label", e.KmsKeyArn is null ? null : "kmsKeyArn");
        Add("cs6", e.KmsKeyArn);
        Add("flexString1Label", e.AwsRegion is null ? null : "awsRegion");
        Add("flexString1", e.AwsRegion);
        Add("flexString2Label", e.AwsAccount is null ? null : "awsAccount");
        Add("flexString2", e.AwsAccount);
        Add("deviceAction", e.KmsOperation);
        Add("sproc", e.KmsViaService);
        Add("deviceExternalId", e.AwsSourceVpc);
        Add("deviceInboundInterface", e.AwsSourceVpce);
        Add("msg", e.Details);
        return line.ToString();
    }

    /// <summary>1 (a change about to run) to 8 (a refusal).</summary>
    private static int Severity(AuditOutcome outcome) => outcome switch
    {
        AuditOutcome.Requested => 1,
        AuditOutcome.Ok => 3,
        AuditOutcome.Error => 6,
        _ => 8,
    };

    // CEF: in the header, '\' and '|' are escaped; line breaks are not allowed, so they become spaces.
    private static string Header(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("|", "\\|", StringComparison.Ordinal)
            .Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    // CEF: in extension values, '\' and '=' are escaped and line breaks written as \r and \n.
    private static string Value(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("=", "\\=", StringComparison.Ordinal)
            .Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
