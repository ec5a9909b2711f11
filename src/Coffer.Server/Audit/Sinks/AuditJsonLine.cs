using System.Buffers;
using System.Text.Json;
using Coffer.Audit;
using Coffer.Server.Management;

namespace Coffer.Server.Audit.Sinks;

/// <summary>A record as one JSON object: the same object <c>coffer audit export --format jsonl</c>
/// streams (AuditViews.View with the management API's source-generated contract), so a SIEM reads
/// one format whichever way the records reach it.</summary>
internal static class AuditJsonLine
{
    /// <summary>Appends the record's JSON (no line end) to <paramref name="output"/>.</summary>
    public static void Write(IBufferWriter<byte> output, AuditRecord record)
    {
        using var json = new Utf8JsonWriter(output);
        JsonSerializer.Serialize(json, AuditViews.View(record), ManagementJson.Default.AuditRecordView);
    }
}
