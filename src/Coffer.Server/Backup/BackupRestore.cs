using System.Security.Cryptography;
using Coffer.Server.Seal;
using Coffer.Storage;
using Coffer.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Coffer.Server.Backup;

/// <summary>
/// <c>coffer restore FILE --data DIR</c> (docs/backup.md): checks the whole backup file before
/// anything is written, builds the restored database in a directory of its own beside DIR, checks
/// it against the header, finishes it (<see cref="RestoredDatabase"/>), and only then moves it into
/// DIR. Any refusal or failure before that last step leaves DIR as it was.
/// </summary>
internal static class BackupRestore
{
    /// <summary>The database file's name in a data directory (CofferOptions' default database path).</summary>
    public const string DatabaseFile = "coffer.db";

    /// <summary>How recent a heartbeat of a node that has not stopped makes a restore refuse to replace its database.</summary>
    private static readonly TimeSpan RunningNodeWindow = TimeSpan.FromSeconds(60);

    /// <param name="ledger">Null only when the caller chose, explicitly, to restore without one.</param>
    /// <param name="replace">Replace the database of a data directory that is not empty.</param>
    /// <exception cref="BackupFileException">The file, the ledger or the directory is refused; the message says why.</exception>
    public static async Task<(BackupHeader Header, RestoreSummary Summary)> RestoreAsync(
        string backupPath, string dataDirectory, DestructionLedger? ledger, bool replace, string nodeId, TimeProvider time, CancellationToken ct)
    {
        var header = await VerifyAsync(backupPath, ct);
        var target = Path.GetFullPath(dataDirectory);
        var occupied = Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any();
        if (occupied && !replace)
        {
            throw new BackupFileException($"{target} is not empty. Restoring over it replaces its database ({DatabaseFile}); say so with --replace, or restore into an empty directory.");
        }

        if (occupied)
        {
            await RefuseWhileANodeRunsAsync(Path.Combine(target, DatabaseFile), ct);
        }

        var staging = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.restoring-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");
        Hosting.OwnerOnlyFiles.CreateDirectory(staging);
        try
        {
            var database = Path.Combine(staging, DatabaseFile);
            await CopyBodyAsync(backupPath, header, database, ct);
            await CheckDatabaseAsync(database, header, ct);
            RestoreSummary summary;
            using (var storage = await SqliteStorage.OpenAsync(database, ct))
            {
                var check = await storage.System.GetSettingAsync(SettingNames.MasterCheck, ct);
                if (check is null || BackupHeader.MasterCheckIdOf(check) != header.MasterCheckId)
                {
                    throw new BackupFileException("the database in the backup does not hold the master key check value its header names: the header or the body was changed.");
                }

                summary = await RestoredDatabase.FinishAsync(storage, nodeId, "restored from the " + header.Describe(), ledger, time, ct);
            }

            MoveInto(staging, target);
            return (header, summary);
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    /// <summary>Refuses to replace a database a node may still be running on: it would go on writing to
    /// the file it has open, and its caches would no longer match the database. A node that stopped
    /// says so in the registry; one that crashed counts as gone once its last heartbeat is older than
    /// <see cref="RunningNodeWindow"/>, longer than any heartbeat interval an operator would set.</summary>
    private static async Task RefuseWhileANodeRunsAsync(string database, CancellationToken ct)
    {
        // A database in WAL mode has its -shm file while any connection has it open, and loses it when
        // the last one closes cleanly. Without it no node is running there, and reading the registry
        // would create it: the refusal's read must leave the directory as it was.
        if (!File.Exists(database) || !File.Exists(database + "-shm"))
        {
            return;
        }

        var running = await SqliteStorage.RecentNodesAsync(database, RunningNodeWindow, ct);
        if (running.Count > 0)
        {
            var (nodeId, age) = running[0];
            throw new BackupFileException(
                $"node '{nodeId}' reported from the database in {Path.GetDirectoryName(database)} {age.TotalSeconds:0.#} s ago and has not stopped. "
                + $"Stop it before restoring over its data directory; a node that crashed counts as stopped {RunningNodeWindow.TotalSeconds:0} s after its last report.");
        }
    }

    /// <summary>Reads the whole file: its header, then exactly the body it announces, whose SHA-256 must match.</summary>
    public static async Task<BackupHeader> VerifyAsync(string backupPath, CancellationToken ct)
    {
        if (!File.Exists(backupPath))
        {
            throw new BackupFileException($"{backupPath} does not exist.");
        }

        try
        {
            await using var file = File.OpenRead(backupPath);
            var header = BackupHeader.Read(file);
            if (header.SchemaVersion > CofferStorage.SchemaVersion)
            {
                throw new BackupFileException($"it was made by a newer Coffer (schema {header.SchemaVersion}; this one knows up to {CofferStorage.SchemaVersion}). Restore it with that version or later.");
            }

            await HashBodyAsync(file, header, Stream.Null, ct);
            return header;
        }
        catch (BackupFileException e)
        {
            throw new BackupFileException($"{backupPath} is not a backup to restore: {e.Message}");
        }
    }

    /// <summary>Copies the body to <paramref name="destination"/>, hashing it again on the way, so the
    /// file cannot change between the check and the copy.</summary>
    private static async Task CopyBodyAsync(string backupPath, BackupHeader header, string destination, CancellationToken ct)
    {
        await using var file = File.OpenRead(backupPath);
        BackupHeader.Read(file);
        await using var output = Hosting.OwnerOnlyFiles.Open(destination, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous });
        await HashBodyAsync(file, header, output, ct);
        output.Flush(flushToDisk: true);
    }

    private static async Task HashBodyAsync(Stream file, BackupHeader header, Stream output, CancellationToken ct)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        long read = 0;
        while (read < header.BodyLength)
        {
            var n = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, header.BodyLength - read)), ct);
            if (n == 0)
            {
                throw new BackupFileException($"it is truncated: its body has {read} of the {header.BodyLength} bytes its header announces.");
            }

            sha.AppendData(buffer, 0, n);
            await output.WriteAsync(buffer.AsMemory(0, n), ct);
            read += n;
        }

        if (await file.ReadAsync(buffer.AsMemory(0, 1), ct) != 0)
        {
            throw new BackupFileException($"it has bytes after the {header.BodyLength}-byte body its header announces.");
        }

        if (Convert.ToHexStringLower(sha.GetHashAndReset()) != header.BodySha256)
        {
            throw new BackupFileException("it is corrupt: its body's SHA-256 is not the one its header records.");
        }
    }

    private static async Task CheckDatabaseAsync(string database, BackupHeader header, CancellationToken ct)
    {
        (bool Intact, int SchemaVersion) found;
        try
        {
            found = await SqliteStorage.InspectAsync(database, ct);
        }
        catch (SqliteException)
        {
            throw new BackupFileException("its body is not a SQLite database.");
        }

        if (!found.Intact)
        {
            throw new BackupFileException("the database in the backup fails SQLite's integrity check.");
        }

        if (found.SchemaVersion != header.SchemaVersion)
        {
            throw new BackupFileException($"its header says schema {header.SchemaVersion}, but the database in it has schema {found.SchemaVersion}.");
        }
    }

    /// <summary>The finished database into DIR: the staging directory becomes DIR when DIR is absent;
    /// otherwise the database files replace DIR's and everything else in DIR (a master key file, TLS
    /// keys, audit archives) stays.</summary>
    private static void MoveInto(string staging, string target)
    {
        if (!Directory.Exists(target))
        {
            Directory.Move(staging, target);
            return;
        }

        foreach (var suffix in new[] { "-wal", "-shm", "-journal" })
        {
            File.Delete(Path.Combine(target, DatabaseFile + suffix));
        }

        foreach (var file in Directory.EnumerateFiles(staging))
        {
            File.Move(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
        }
    }
}
