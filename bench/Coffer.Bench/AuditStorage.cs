using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Coffer.Bench;

/// <summary>What `coffer dev`'s database takes on disk, read beside the running server, so an audited
/// scenario can say how many bytes each record it wrote cost (every audit table and index counted; the
/// bench's own calls write nothing else). docs/audit-storage.md has the goal.</summary>
internal static class AuditStorage
{
    /// <summary>The pages in use of dataDir/coffer.db; page_count counts those committed to the WAL too.</summary>
    public static long BytesInUse(string dataDir)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(dataDir, "coffer.db"), Mode = SqliteOpenMode.ReadOnly, Pooling = false,
        }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()";
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>"412 bytes per record on disk" between two readings of the size and of the audit counters.</summary>
    public static string? Describe(long bytesBefore, long bytesAfter, AuditBatches.Totals? before, AuditBatches.Totals? after) =>
        before is { } b && after is { } a && a.Records > b.Records
            ? string.Create(CultureInfo.InvariantCulture, $"{(bytesAfter - bytesBefore) / (a.Records - b.Records):0} bytes per record on disk")
            : null;
}
