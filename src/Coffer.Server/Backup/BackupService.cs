using System.Security.Cryptography;
using Coffer.Server.Hosting;
using Coffer.Server.Seal;
using Coffer.Storage;

namespace Coffer.Server.Backup;

/// <summary>
/// Takes an online backup of a SQLite node (docs/backup.md): a consistent copy of the database made
/// while XKS calls and their audit records go on, and the header that describes it. The copy holds
/// only what the database holds, sealed material and hashes, so it needs no unsealed node.
/// </summary>
/// <remarks>The copy is written to a file of its own beside the database (owner-only, as the data
/// directory is: docs/architecture.md, "Files on disk"), since the header needs the body's digest before the
/// body; <see cref="BackupSnapshot"/> deletes it when it is closed.</remarks>
internal sealed class BackupService(ICofferStorage storage, CofferOptions options, TimeProvider time)
{
    /// <summary>The audit action of a backup taken through the management API.</summary>
    public const string CreateAction = "backup.create";

    /// <summary>The audit action a restore writes as the restored database's next record.</summary>
    public const string RestoreAction = "backup.restore";

    /// <summary>Copies the database as of now.</summary>
    /// <exception cref="ConflictException">The node's storage is PostgreSQL, which is backed up
    /// with its own tools, or it is not initialised.</exception>
    public async Task<BackupSnapshot> TakeAsync(CancellationToken ct)
    {
        if (storage is not CofferStorage { CanCopyToFile: true } sqlite)
        {
            throw new ConflictException(
                "This node keeps its data in PostgreSQL: back it up with pg_dump or a base backup and check the restored database with coffer restore-postgres (docs/backup.md).");
        }

        var check = await storage.System.GetSettingAsync(SettingNames.MasterCheck, ct)
            ?? throw new ConflictException("Coffer is not initialised: there is nothing to back up.");
        var directory = Path.GetDirectoryName(Path.GetFullPath(options.ResolvedDatabasePath))!;
        var path = Path.Combine(directory, $".backup-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}.partial");
        // Empty, as VACUUM INTO requires, and owner-only before a byte is in it.
        OwnerOnlyFiles.Open(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write }).Dispose();
        FileStream? body = null;
        try
        {
            var createdAt = time.GetUtcNow();
            await sqlite.CopyToFileAsync(path, ct);
            // From here the file goes when the snapshot is closed, however the answer ends.
            body = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
            var digest = Convert.ToHexStringLower(await SHA256.HashDataAsync(body, ct));
            body.Position = 0;
            var header = new BackupHeader(
                BackupHeader.SqliteEngine, CofferStorage.SchemaVersion, createdAt, options.NodeId, BackupHeader.MasterCheckIdOf(check), body.Length, digest);
            return new BackupSnapshot(header, body);
        }
        catch
        {
            if (body is null)
            {
                File.Delete(path);
            }
            else
            {
                await body.DisposeAsync();
            }

            throw;
        }
    }
}
