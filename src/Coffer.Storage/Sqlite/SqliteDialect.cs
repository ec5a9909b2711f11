using Microsoft.Data.Sqlite;

namespace Coffer.Storage.Sqlite;

/// <summary>
/// Every place where Coffer's SQL or error handling is specific to SQLite. The PostgreSQL storage
/// gets a sibling of this class; the migration scripts and the rest of the queries are shared.
/// </summary>
/// <remarks>
/// Differences and their PostgreSQL counterparts:
/// <list type="bullet">
/// <item>Bytes: <c>BLOB</c> here; PostgreSQL runs <c>CREATE DOMAIN blob AS bytea</c> first, so the
/// migration scripts stay identical.</item>
/// <item>Write transactions: <c>BEGIN IMMEDIATE</c> takes the write lock up front (SQLite cannot
/// upgrade a read lock without risking SQLITE_BUSY); PostgreSQL's row locks need nothing extra.</item>
/// <item>Tag filter: <c>json_each</c> here; PostgreSQL would use <c>tags::jsonb -&gt;&gt; @TagName</c>.</item>
/// <item>Constraint errors: SQLite extended result codes here; SQLSTATE 23505/23503 there.</item>
/// <item>Key ordering: SQLite compares TEXT by bytes (BINARY); PostgreSQL needs <c>COLLATE "C"</c>
/// on <c>ORDER BY id</c> for the same keyset order.</item>
/// </list>
/// </remarks>
internal static class SqliteDialect
{
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

    /// <summary>
    /// The database's clock in unix milliseconds, for the cluster tables (docs/cluster.md). SQLite fixes
    /// <c>'now'</c> once per statement, so every use in one statement agrees. PostgreSQL's counterpart is
    /// <c>CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)</c>.
    /// </summary>
    public const string NowMilliseconds = "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";

    /// <summary>WAL lets readers proceed while one writer commits. It is a property of the file,
    /// so setting it once when opening is enough.</summary>
    public const string EnableWal = "PRAGMA journal_mode = WAL;";

    /// <summary>
    /// <c>json_each</c> over the key's tags: one tag name, and its value unless
    /// <c>@TagValue</c> is null. Used inside the key list query as <c>k</c>.
    /// </summary>
    public const string TagPredicate =
        "EXISTS (SELECT 1 FROM json_each(k.tags) AS t WHERE t.key = @TagName AND (@TagValue IS NULL OR t.value = @TagValue))";

    private const int SqliteConstraint = 19;
    private const int SqliteConstraintForeignKey = 787;   // SQLITE_CONSTRAINT_FOREIGNKEY
    private const int SqliteConstraintPrimaryKey = 1555;  // SQLITE_CONSTRAINT_PRIMARYKEY
    private const int SqliteConstraintUnique = 2067;      // SQLITE_CONSTRAINT_UNIQUE

    /// <summary>
    /// Whether the exception is a unique or primary key violation, and which columns it names
    /// ("key_stores.uri_prefix", or "keys.key_store_id, keys.external_id").
    /// </summary>
    public static bool IsUniqueViolation(Exception exception, out string columns)
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

    public static bool IsForeignKeyViolation(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: SqliteConstraint, SqliteExtendedErrorCode: SqliteConstraintForeignKey };
}
