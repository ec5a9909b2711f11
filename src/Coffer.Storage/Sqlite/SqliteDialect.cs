using System.Data.Common;
using Microsoft.Data.Sqlite;
using Coffer.Storage.Repositories;

namespace Coffer.Storage.Sqlite;

/// <summary>
/// SQLite's side of <see cref="SqlDialect"/>: one file in WAL mode, one writer at a time.
/// </summary>
/// <remarks>
/// Write transactions are <c>BEGIN IMMEDIATE</c>: they take the database's write lock before the first
/// read (SQLite cannot upgrade a read lock without risking SQLITE_BUSY), so every read-then-write is
/// serialised against every other writer, in this process or another, and needs no row lock.
/// </remarks>
internal sealed class SqliteDialect : SqlDialect
{
    public static readonly SqliteDialect Instance = new();

    private SqliteDialect()
    {
    }

    /// <summary>
    /// Run on every connection as it is taken from the pool. These settings are per connection in
    /// SQLite, and a pooled connection may be brand new, so they are set each time (it costs
    /// microseconds, in process).
    /// </summary>
    /// <remarks>
    /// synchronous=FULL: with WAL, NORMAL already survives a crash of the process, but a power cut
    /// may lose the last commits. A lost key version is the worst failure Coffer can have (data
    /// encrypted under it is gone for good), so commits wait for fsync. Revisit with measurements;
    /// key writes are rare, and the hot path does not touch the database.
    /// busy_timeout: writers queue behind each other instead of failing with SQLITE_BUSY.
    /// secure_delete=FAST: content a write frees inside a page (a destroyed version's wrapped material)
    /// is overwritten with zeros instead of lingering in free space where a copy of the file
    /// would still show it. FAST zeroes only within pages being written anyway, so it adds no I/O
    /// (ON would also rewrite whole freed pages, which archiving old audit records does in bulk).
    /// </remarks>
    public const string ConnectionPragmas =
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000; PRAGMA secure_delete = FAST;";

    /// <summary>
    /// Copies every WAL frame into the database file and truncates the WAL to zero bytes, so no old
    /// page image (e.g. one still holding erased material) survives in the -wal file. Answers one row:
    /// busy (1 when a writer or a reader kept it from completing), frames in the log, frames
    /// checkpointed. Run after <see cref="ErasureCheckpointPrelude"/>, never inside a change.
    /// </summary>
    public const string CheckpointAndTruncateWal = "PRAGMA wal_checkpoint(TRUNCATE);";

    /// <summary>
    /// Before <see cref="CheckpointAndTruncateWal"/>: a PASSIVE checkpoint first copies what it can
    /// without taking the write lock, so the truncating one has little left to copy while it holds it;
    /// and a short lock wait, because the truncating checkpoint holds the write lock while it waits for
    /// readers of older snapshots. With the usual 10 s it would outlast the audit writer's 1 s
    /// (<see cref="AuditConnectionPragmas"/>) and fail XKS calls; with 100 ms it gives up (busy) and the
    /// destruction sweeper tries again a minute later. The connection goes back to the pool with this
    /// wait, and <see cref="ConnectionPragmas"/> restores the usual one when it is taken again.
    /// </summary>
    public const string ErasureCheckpointPrelude = "PRAGMA busy_timeout = 100; PRAGMA wal_checkpoint(PASSIVE);";

    /// <summary>
    /// The audit writer's connections: as durable as the others (synchronous=FULL: an audit record is
    /// on disk, fsync'd, before the call it records is answered — WAL with NORMAL would survive a
    /// process crash but not a power cut), but they give up on a held write lock after about a second
    /// instead of ten. An XKS call has 250 ms before AWS KMS gives up, and a stuck audit store must fail
    /// calls (fail closed) rather than pile them up.
    /// </summary>
    public const string AuditConnectionPragmas =
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 1000;";

    /// <summary>Microsoft.Data.Sqlite's own retry on SQLITE_BUSY for audit connections, in seconds.</summary>
    public const int AuditCommandTimeoutSeconds = 1;


    /// <summary>WAL lets readers proceed while one writer commits. It is a property of the file,
    /// so setting it once when opening is enough.</summary>
    public const string EnableWal = "PRAGMA journal_mode = WAL;";

    public override string MigrationFolder => "Sqlite";

    /// <summary>SQLite fixes <c>'now'</c> once per statement, so every use in one statement agrees.</summary>
    public override string NowMilliseconds => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";

    public override string ForUpdate => "";

    /// <summary><c>json_each</c> over the key's tags.</summary>
    public override string TagPredicate =>
        "EXISTS (SELECT 1 FROM json_each(k.tags) AS t WHERE t.key = @TagName AND (@TagValue IS NULL OR t.value = @TagValue))";

    private const int SqliteConstraint = 19;
    private const int SqliteConstraintForeignKey = 787;   // SQLITE_CONSTRAINT_FOREIGNKEY
    private const int SqliteConstraintPrimaryKey = 1555;  // SQLITE_CONSTRAINT_PRIMARYKEY
    private const int SqliteConstraintUnique = 2067;      // SQLITE_CONSTRAINT_UNIQUE

    /// <summary>
    /// Whether the exception is a unique or primary key violation, and which columns it names
    /// ("key_stores.uri_prefix", or "keys.key_store_id, keys.external_id").
    /// </summary>
    public override string IsIn(string column, string parameter) => $"{column} IN {parameter}";

    // substr counts bytes in a blob, and from the end when negative.
    public override string LastHashOfBatch => "substr(hashes, -32)";

    /// <remarks>A byte[] parameter is a blob, so instr compares bytes.</remarks>
    public override string ContainsBytes(string column, string parameter) => $"instr({column}, {parameter}) > 0";

    /// <remarks>The id itself: SQLite's WITHOUT ROWID table keeps a key row in one B-tree entry of about
    /// 35 bytes, and SQL on SQLite has no SHA-256 to turn the stored ids into hashes (docs/audit-storage.md).</remarks>
    public override string BatchKeyColumn => "key_id";

    public override object BatchKey(string keyId) => keyId;

    public override async Task PrepareAsync(DbConnection connection, bool forAudit, CancellationToken ct)
    {
        await using var pragmas = connection.CreateCommand();
        pragmas.CommandText = forAudit ? AuditConnectionPragmas : ConnectionPragmas;
        await pragmas.ExecuteNonQueryAsync(ct);
    }

    public override Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct) =>
        Task.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(deferred: false));

    /// <summary>A deferred transaction: one consistent snapshot for several reads, no write lock.</summary>
    public override Task<DbTransaction> BeginReadAsync(DbConnection connection, CancellationToken ct) =>
        Task.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(deferred: true));

    public override Task LockAsync(DbTransaction transaction, WriteLock name, CancellationToken ct) => Task.CompletedTask;

    /// <summary>
    /// Erasing the bytes from the row is not enough: older images of the page stay in the database
    /// file and the WAL until a truncating checkpoint (docs/architecture.md, "The hot path").
    /// </summary>
    public override async Task<bool> CompleteErasureAsync(DbConnection connection, CancellationToken ct)
    {
        await using var prelude = connection.CreateCommand();
        prelude.CommandText = ErasureCheckpointPrelude;
        await prelude.ExecuteNonQueryAsync(ct);
        await using var checkpoint = connection.CreateCommand();
        checkpoint.CommandText = CheckpointAndTruncateWal;
        return Convert.ToInt64(await checkpoint.ExecuteScalarAsync(ct), global::System.Globalization.CultureInfo.InvariantCulture) == 0;
    }

    /// <summary>
    /// <c>VACUUM INTO</c> (https://sqlite.org/lang_vacuum.html#vacuuminto): one read transaction, so in
    /// WAL mode writers (the audit writer above all) go on while it copies, and the copy is the snapshot
    /// the read began on. It rebuilds the database from its rows, so free pages, where erased material
    /// may linger, are not copied.
    /// </summary>
    public override async Task CopyToFileAsync(DbConnection connection, string path, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "VACUUM INTO @path";
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@path";
        parameter.Value = path;
        command.Parameters.Add(parameter);
        await command.ExecuteNonQueryAsync(ct);
    }

    public override async Task<AuditBatchWriter> OpenAuditWriterAsync(CofferStorage storage, CancellationToken ct) =>
        await SqliteAuditWriter.OpenAsync(storage, ct);

    public override void Release(DbDataSource dataSource)
    {
        using var connection = new SqliteConnection(dataSource.ConnectionString);
        SqliteConnection.ClearPool(connection);
    }

    public override bool IsUniqueViolation(Exception exception, out string columns)
    {
        columns = string.Empty;
        if (exception is not SqliteException { SqliteErrorCode: SqliteConstraint } sqlite
            || sqlite.SqliteExtendedErrorCode is not (SqliteConstraintUnique or SqliteConstraintPrimaryKey))
        {
            return false;
        }

        // SQLite's message is "SQLite Error 19: 'UNIQUE constraint failed: table.column, ...'."
        const string marker = "constraint failed: ";
        var message = sqlite.Message;
        var start = message.IndexOf(marker, StringComparison.Ordinal);
        if (start >= 0)
        {
            start += marker.Length;
            var end = message.IndexOf('\'', start);
            columns = end > start ? message[start..end] : message[start..];
        }

        return true;
    }

    public override bool IsForeignKeyViolation(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: SqliteConstraint, SqliteExtendedErrorCode: SqliteConstraintForeignKey };
}
