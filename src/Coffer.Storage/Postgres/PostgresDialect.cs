using System.Buffers.Binary;
using System.Data;
using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Coffer.Storage.Repositories;
using Npgsql;

namespace Coffer.Storage.Postgres;

/// <summary>
/// PostgreSQL's side of <see cref="SqlDialect"/>: several nodes write at once under READ COMMITTED,
/// so every read-then-write locks what it read (<see cref="ForUpdate"/>, <see cref="LockAsync"/>);
/// docs/storage.md gives the rule for each write.
/// </summary>
internal sealed class PostgresDialect : SqlDialect
{
    /// <summary>
    /// The audit writer's connections give up on a lock after about a second, as SQLite's do
    /// (SqliteDialect.AuditConnectionPragmas): a stuck audit store must fail XKS calls (fail closed)
    /// rather than pile them up. And the server ends an audit transaction whose client has sent nothing
    /// for two seconds: a node cut off from the database while it held the chain's lock (a partition
    /// leaves its session open) would otherwise keep every other node's audit, and so their key calls,
    /// waiting until the server's TCP keepalive noticed, hours later (docs/cluster.md, "When the
    /// database is gone"). A transaction of the writer never waits on anything but the database and the
    /// chaining of one batch. Set on the connection string, so a pooled connection keeps it.
    /// </summary>
    public const string AuditConnectionOptions = "-c lock_timeout=1000 -c idle_in_transaction_session_timeout=2000";

    /// <summary>
    /// How long, in seconds, the audit writer waits for a connection or for one statement before the
    /// batch fails (Npgsql's <c>Timeout</c> and <c>CommandTimeout</c>, 15 and 30 s by default). On a silent
    /// network nothing else ends the wait, and every XKS call waits for its batch: the node must refuse
    /// calls within its staleness bound (2 s at least, ClusterOptions), not after half a minute. A batch
    /// commits in tens of milliseconds (docs/cluster.md, "One audit log"). One second, as SQLite's
    /// (SqliteDialect.AuditCommandTimeoutSeconds): on a timeout Npgsql also spends up to this long on its
    /// cancellation request, so a batch on a silent network fails in two to three of these.
    /// </summary>
    public const int AuditTimeoutSeconds = 1;

    private const string UniqueViolation = "23505";
    private const string ForeignKeyViolation = "23503";

    public static readonly PostgresDialect Instance = new();

    private PostgresDialect()
    {
    }

    public override string MigrationFolder => "Postgres";

    /// <summary><c>now()</c> is the transaction's start, the same wherever it appears in one statement.</summary>
    public override string NowMilliseconds => "CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)";

    public override string ForUpdate => " FOR UPDATE";

    /// <summary>Tags are a JSON object in a TEXT column; <c>-&gt;&gt;</c> reads one member as text.</summary>
    public override string TagPredicate =>
        "(k.tags::jsonb ? @TagName AND (@TagValue IS NULL OR k.tags::jsonb ->> @TagName = @TagValue))";

    public override string IsIn(string column, string parameter) => $"{column} = ANY({parameter})";

    public override string LastHashOfBatch => "substring(hashes from length(hashes) - 31)";

    /// <remarks>A hash, not the id: a key row is a heap tuple and a B-tree entry of its own here, and a
    /// bigint in place of the id's text made the table 40 % smaller (docs/audit-storage.md).</remarks>
    public override string BatchKeyColumn => "key_hash";

    /// <summary>The first 8 bytes of SHA-256 over the id's UTF-8, big-endian: what
    /// 0019_audit_batch_key_hashes.sql computes in SQL for the rows it converts.</summary>
    public override object BatchKey(string keyId)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(keyId), hash);
        return BinaryPrimitives.ReadInt64BigEndian(hash);
    }

    public override string ContainsBytes(string column, string parameter) => $"position({parameter} in {column}) > 0";

    /// <summary>Nothing per connection: durability (synchronous_commit) and the lock waits are the
    /// server's and the connection string's.</summary>
    public override Task PrepareAsync(DbConnection connection, bool forAudit, CancellationToken ct) => Task.CompletedTask;

    public override async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct) =>
        await ((NpgsqlConnection)connection).BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);

    public override async Task<DbTransaction> BeginReadAsync(DbConnection connection, CancellationToken ct)
    {
        var transaction = await ((NpgsqlConnection)connection).BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        try
        {
            await using var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", (NpgsqlConnection)connection, transaction);
            await readOnly.ExecuteNonQueryAsync(ct);
            return transaction;
        }
        catch
        {
            await transaction.DisposeAsync();
            throw;
        }
    }

    /// <summary>A transaction-scoped advisory lock: released by the commit or rollback, never leaked
    /// by a connection returned to the pool.</summary>
    public override async Task LockAsync(DbTransaction transaction, WriteLock name, CancellationToken ct)
    {
        var npgsql = (NpgsqlTransaction)transaction;
        await using var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@Key)", npgsql.Connection, npgsql);
        command.Parameters.AddWithValue("Key", (long)name);
        await command.ExecuteNonQueryAsync(ct);
    }

    public override bool IsUniqueViolation(Exception exception, out string columns)
    {
        // The baseline names every unique and primary key constraint as SQLite reports it
        // (Migrations/Postgres/0016_baseline.sql).
        columns = exception is PostgresException { SqlState: UniqueViolation } postgres ? postgres.ConstraintName ?? "" : "";
        return exception is PostgresException { SqlState: UniqueViolation };
    }

    public override bool IsForeignKeyViolation(Exception exception) =>
        exception is PostgresException { SqlState: ForeignKeyViolation };

    /// <summary>
    /// VACUUM removes the old row versions that still hold destroyed material from the table's pages
    /// once no transaction can see them; it does not zero the bytes, nor reach the WAL, archives or
    /// backups. docs/storage.md says what that leaves. It runs outside any transaction.
    /// </summary>
    public override async Task<bool> CompleteErasureAsync(DbConnection connection, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "VACUUM key_versions";
        await command.ExecuteNonQueryAsync(ct);
        return true;
    }

    /// <summary>A PostgreSQL database is backed up with its own tools (pg_dump, base backups and WAL
    /// archiving); docs/backup.md says how, and how <c>coffer restore-postgres</c> checks the result.</summary>
    public override Task CopyToFileAsync(DbConnection connection, string path, CancellationToken ct) =>
        throw new NotSupportedException("A PostgreSQL database is backed up with pg_dump or a base backup, not by Coffer (docs/backup.md).");

    public override Task<AuditBatchWriter> OpenAuditWriterAsync(CofferStorage storage, CancellationToken ct) =>
        AuditBatchWriter.OpenAsync(storage, ct);

    public override void Release(DbDataSource dataSource)
    {
        // Disposing the NpgsqlDataSource closes its pool.
    }
}
