using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Coffer.Audit;

using Coffer.Server.Logging;

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

        // A CEF custom field travels as a pair: "<key>Label=<name> <key>=<value>", both only when set.
        void AddCustom(string key, string label, string? value)
        {
            Add(key + "Label", value is null ? null : label);
            Add(key, value);
        }

        Add("rt", record.Time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        Add("externalId", record.Sequence.ToString(CultureInfo.InvariantCulture));
        Add("dvchost", record.Node);
        Add("act", e.Action);
        Add("outcome", AuditOutcomes.ToText(e.Outcome));
        Add("cat", e.ErrorName);
        Add("reason", e.Reason);
        AddCustom("cs1", "actorKind", e.ActorKind);
        Add("suser", e.ActorId);
        if (e.SourceIp is not null && IPAddress.TryParse(e.SourceIp, out var ip))
        {
            if (ip.AddressFamily == AddressFamily.InterNetworkV6)
            {
                // CEF's src holds IPv4 only; IPv6 goes to the custom IPv6 field.
                AddCustom("c6a1", "sourceIp", e.SourceIp);
            }
            else
            {
                Add("src", e.SourceIp);
            }
        }

        AddCustom("cs2", "keyStore", e.KeyStore);
        AddCustom("cs3", "keyId", e.KeyId);
        AddCustom("cn1", "keyVersion", e.KeyVersion?.ToString(CultureInfo.InvariantCulture));
        AddCustom("cfp1", "latencyMs", e.LatencyMs?.ToString("0.###", CultureInfo.InvariantCulture));
        AddCustom("cs4", "kmsRequestId", e.KmsRequestId);
        AddCustom("cs5", "awsPrincipalArn", e.AwsPrincipalArn);
        AddCustom("cs6", "kmsKeyArn", e.KmsKeyArn);
        AddCustom("flexString1", "awsRegion", e.AwsRegion);
        AddCustom("flexString2", "awsAccount", e.AwsAccount);
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
    // Other controls and line separators (ESC, NEL, U+2028...) are written as \xNN by LogText, so a SIEM
    // that splits on them cannot be handed a forged record either.
    private static string Header(string text) => LogText.Escape(
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("|", "\\|", StringComparison.Ordinal)
            .Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal));

    // CEF: in extension values, '\' and '=' are escaped and line breaks written as \r and \n.
    private static string Value(string text) => LogText.Escape(
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("=", "\\=", StringComparison.Ordinal)
            .Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal));
}
