using Coffer.Crypto;
using Coffer.Server.Audit;
using Coffer.Storage;
using Coffer.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Coffer.Server.Tests.Audit;

/// <summary>An audit log with its checkpoint key, on a SQLite file of its own in a temporary folder:
/// for verify's tests, which edit the stored chain under it.</summary>
internal sealed class SqliteAuditLog : IAsyncDisposable
{
    private readonly string _directory;

    private SqliteAuditLog(string directory, CofferStorage storage, AuditLog log, MasterKey master) =>
        (_directory, Storage, Log, Master) = (directory, storage, log, master);

    public CofferStorage Storage { get; }

    public AuditLog Log { get; }

    public MasterKey Master { get; }

    public string DatabasePath => Path.Combine(_directory, "coffer.db");

    public static async Task<SqliteAuditLog> OpenAsync(string node)
    {
        var directory = Directory.CreateTempSubdirectory("coffer-audit-").FullName;
        var storage = await SqliteStorage.OpenAsync(Path.Combine(directory, "coffer.db"));
        var log = await AuditLog.StartAsync(storage.Audit, node, TimeProvider.System, NullLogger<AuditLog>.Instance);
        var master = MasterKey.Generate();
        log.SetCheckpointKey(master);
        return new SqliteAuditLog(directory, storage, log, master);
    }

    public async ValueTask DisposeAsync()
    {
        await Log.DisposeAsync();
        Master.Dispose();
        Storage.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
