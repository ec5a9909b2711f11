using System.Globalization;
using System.Text.Json;
using Coffer.Audit;
using Coffer.Server.Management;

namespace Coffer.Server.Backup;

/// <summary>
/// The destructions a restore must apply so that what was destroyed after a backup stays destroyed
/// (docs/backup.md, "Destruction and old backups"): the audit log's records of completed destructions,
/// read from files kept where the backup is not — <c>coffer audit export</c>, a file sink's output or
/// an audit archive, all JSON lines of audit records. Only <c>key.version.destroy</c> and
/// <c>key.destroy</c> records with the outcome <c>ok</c> count; every other record is read and passed
/// over. A ledger can only make a restore destroy more, never bring anything back.
/// </summary>
internal sealed class DestructionLedger
{
    private DestructionLedger(IReadOnlyList<LedgerEntry> entries, IReadOnlyList<string> files)
    {
        Entries = entries;
        Files = files;
    }

    /// <summary>The destructions, in the order the files hold them.</summary>
    public IReadOnlyList<LedgerEntry> Entries { get; }

    /// <summary>The files read, for the restore's record.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>Reads every file whole before anything is restored.</summary>
    /// <exception cref="BackupFileException">A file is missing or a line is not an audit record.</exception>
    public static async Task<DestructionLedger> ReadAsync(IReadOnlyList<string> paths, CancellationToken ct)
    {
        var entries = new List<LedgerEntry>();
        foreach (var path in paths)
        {
            if (!File.Exists(path))
            {
                throw new BackupFileException($"the destruction ledger {path} does not exist.");
            }

            var number = 0;
            foreach (var line in await File.ReadAllLinesAsync(path, ct))
            {
                number++;
                if (line.Length > 0 && Read(line, path, number) is { } entry)
                {
                    entries.Add(entry);
                }
            }
        }

        return new DestructionLedger(entries, paths);
    }

    private static LedgerEntry? Read(string line, string path, int number)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            // An audit archive's first line is its header (docs/formats.md, "Audit archive").
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("format", out _) && !root.TryGetProperty("action", out _))
            {
                return null;
            }

            var record = root.Deserialize(ManagementJson.Default.AuditRecordView);
            if (record?.Action is null || record.Outcome is null)
            {
                throw new BackupFileException(string.Create(CultureInfo.InvariantCulture, $"line {number} of the destruction ledger {path} is not an audit record."));
            }

            var isDestruction = record.Action is AuditActions.KeyDestroy or AuditActions.KeyVersionDestroy;
            if (!isDestruction || record.Outcome != AuditOutcomes.ToText(AuditOutcome.Ok))
            {
                return null;
            }

            if (string.IsNullOrEmpty(record.KeyId) || (record.Action == AuditActions.KeyVersionDestroy && record.KeyVersion is null))
            {
                throw new BackupFileException(string.Create(CultureInfo.InvariantCulture, $"line {number} of the destruction ledger {path} records a destruction without its key or version."));
            }

            return new LedgerEntry(record.KeyId, record.Action == AuditActions.KeyVersionDestroy ? record.KeyVersion : null, record.Time, record.Sequence);
        }
        catch (JsonException)
        {
            throw new BackupFileException(string.Create(CultureInfo.InvariantCulture, $"line {number} of the destruction ledger {path} is not JSON: give audit records as coffer audit export writes them."));
        }
    }
}

/// <summary>One completed destruction: a version of a key, or (no version) a whole key.</summary>
internal sealed record LedgerEntry(string KeyId, int? Version, DateTimeOffset DestroyedAt, long Sequence);
