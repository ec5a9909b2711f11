using Coffer.Server.Hosting;
using Coffer.Server.Seal;
using Coffer.Storage;

namespace Coffer.Server.Backup;

/// <summary>
/// <c>coffer restore-postgres</c> (docs/backup.md): a PostgreSQL database comes back with PostgreSQL's
/// own tools (pg_restore, a base backup and its WAL to a point in time); before any node starts on it,
/// this checks what Coffer can check without the master key and finishes it as every restore is
/// finished (<see cref="RestoredDatabase"/>).
/// </summary>
internal static class PostgresRestore
{
    /// <param name="expectedMasterCheckId">The master key check id the database must hold, when the operator knows it.</param>
    /// <exception cref="BackupFileException">The configuration, schema or master key check value is refused.</exception>
    public static async Task<(int SchemaVersion, string MasterCheckId, RestoreSummary Summary)> FinishAsync(
        CofferOptions options, DestructionLedger? ledger, string? expectedMasterCheckId, TimeProvider time, CancellationToken ct)
    {
        if (options.Storage.Engine != StorageOptions.Postgres)
        {
            throw new BackupFileException("the configuration's Storage.Engine is not postgres; a SQLite node is restored with coffer restore FILE --data DIR.");
        }

        CofferStorage storage;
        try
        {
            // Opening brings an older schema up to date and refuses one newer than this build's.
            storage = await options.Storage.OpenAsync(options, ct);
        }
        catch (SchemaVersionException e)
        {
            throw new BackupFileException($"the restored database was written by a newer Coffer: {e.Message}");
        }
        catch (Exception e) when (e is InvalidOperationException or System.Data.Common.DbException or IOException)
        {
            // Configuration, connection and password-file errors name settings and hosts, never a password.
            throw new BackupFileException($"the restored database cannot be opened: {e.Message}");
        }

        using (storage)
        {
            var check = await storage.System.GetSettingAsync(SettingNames.MasterCheck, ct)
                ?? throw new BackupFileException("the restored database holds no master key check value: it is not an initialised Coffer database.");
            var id = BackupHeader.MasterCheckIdOf(check);
            if (expectedMasterCheckId is not null && !string.Equals(expectedMasterCheckId, id, StringComparison.OrdinalIgnoreCase))
            {
                throw new BackupFileException($"the restored database's master key check is {id}, not {expectedMasterCheckId}: it belongs to another installation.");
            }

            var summary = await RestoredDatabase.FinishAsync(storage, options.NodeId, "PostgreSQL database restored with PostgreSQL's tools, checked by coffer restore-postgres (master key check " + id + ")", ledger, time, ct);
            return (CofferStorage.SchemaVersion, id, summary);
        }
    }
}
