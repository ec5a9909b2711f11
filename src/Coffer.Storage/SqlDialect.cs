using System.Data.Common;
using Coffer.Storage.Repositories;

namespace Coffer.Storage;

/// <summary>
/// Everything in which Coffer's storage differs between engines; the repositories' queries and
/// transactions are otherwise shared (docs/storage.md). One instance per engine, stateless.
/// </summary>
internal abstract class SqlDialect
{
    /// <summary>The folder of this engine's scripts under <c>Migrations/</c>.</summary>
    public abstract string MigrationFolder { get; }

    /// <summary>The database's clock in unix milliseconds, for the cluster tables (docs/cluster.md): the
    /// same value wherever it appears in one statement, so nodes whose clocks disagree still agree.</summary>
    public abstract string NowMilliseconds { get; }

    /// <summary>Appended to a SELECT that a write transaction reads and then changes: PostgreSQL's
    /// <c>FOR UPDATE</c> holds the row until the commit, so the read and the write cannot interleave
    /// with another writer's under READ COMMITTED. Empty on SQLite, whose BEGIN IMMEDIATE already
    /// holds the database's one write lock.</summary>
    public abstract string ForUpdate { get; }

    /// <summary>
    /// A predicate on the key row <c>k</c>: it has the tag <c>@TagName</c>, with the value
    /// <c>@TagValue</c> unless that is null.
    /// </summary>
    public abstract string TagPredicate { get; }

    /// <summary>The last 32 bytes of the <c>hashes</c> column: a batch's last hash.</summary>
    public abstract string LastHashOfBatch { get; }

    /// <summary>A predicate: <paramref name="column"/> is one of the list <paramref name="parameter"/>
    /// (Dapper expands a list for SQLite, and passes it whole as an array to PostgreSQL).</summary>
    public abstract string IsIn(string column, string parameter);

    /// <summary>A predicate: the bytes of <paramref name="parameter"/> occur in <paramref name="column"/>.</summary>
    public abstract string ContainsBytes(string column, string parameter);

    /// <summary>The column of <c>audit_batch_keys</c> that names a key; see <see cref="BatchKey"/>.</summary>
    public abstract string BatchKeyColumn { get; }

    /// <summary>
    /// What <c>audit_batch_keys</c> stores for a key id: on SQLite the id itself, on PostgreSQL a 64-bit
    /// hash of it (0019_audit_batch_key_hashes.sql). Either way the table only narrows a listing by key to
    /// candidate batches; each record is then tested exactly (<see cref="AuditBatchFilter"/>), so a hash
    /// that two ids share costs a batch read, never a wrong answer.
    /// </summary>
    public abstract object BatchKey(string keyId);

    /// <summary>Settings every connection needs (SQLite: pragmas, which are per connection).</summary>
    public abstract Task PrepareAsync(DbConnection connection, bool forAudit, CancellationToken ct);

    /// <summary>A transaction for a read-then-write (SQLite: BEGIN IMMEDIATE; PostgreSQL: READ COMMITTED,
    /// with the rows it reads locked by <see cref="ForUpdate"/> or a <see cref="LockAsync"/>).</summary>
    public abstract Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct);

    /// <summary>One snapshot for several reads, no write lock (PostgreSQL: REPEATABLE READ READ ONLY).</summary>
    public abstract Task<DbTransaction> BeginReadAsync(DbConnection connection, CancellationToken ct);

    /// <summary>
    /// Serialises a whole read-then-write against every other holder of <paramref name="name"/>
    /// until the transaction ends (PostgreSQL: a transaction-scoped advisory lock). Nothing on SQLite,
    /// where a write transaction already excludes every other writer.
    /// </summary>
    public abstract Task LockAsync(DbTransaction transaction, WriteLock name, CancellationToken ct);

    /// <summary>Whether the exception is a unique or primary key violation, and the columns it names
    /// as SQLite does ("keys.key_store_id, keys.external_id"; PostgreSQL's constraints carry that name).</summary>
    public abstract bool IsUniqueViolation(Exception exception, out string columns);

    public abstract bool IsForeignKeyViolation(Exception exception);

    /// <summary>The engine's part of erasing destroyed material from its files (docs/storage.md);
    /// false when it should be tried again later.</summary>
    public abstract Task<bool> CompleteErasureAsync(DbConnection connection, CancellationToken ct);

    /// <summary>Writes a consistent copy of the whole database into the empty file at <paramref name="path"/>
    /// while writers go on (docs/backup.md); engines that cannot throw <see cref="NotSupportedException"/>.</summary>
    public abstract Task CopyToFileAsync(DbConnection connection, string path, CancellationToken ct);

    /// <summary>The audit writer's connection with its statements prepared.</summary>
    public abstract Task<AuditBatchWriter> OpenAuditWriterAsync(CofferStorage storage, CancellationToken ct);

    /// <summary>Lets go of the pooled connections of a closed storage.</summary>
    public abstract void Release(DbDataSource dataSource);
}

/// <summary>The whole-transaction locks of <see cref="SqlDialect.LockAsync"/>; the numbers are
/// PostgreSQL advisory lock keys, fixed so every node takes the same lock.</summary>
internal enum WriteLock : long
{
    /// <summary>Schema migrations: one node migrates, the others wait and find nothing left to do.</summary>
    Migrations = 0x436f_6666_6572_0001,

    /// <summary>The audit chain's head: an append reads it and must extend it before anyone else does.</summary>
    AuditHead = 0x436f_6666_6572_0002,

    /// <summary>Audit archive cuts and the pruning that follows them.</summary>
    AuditArchives = 0x436f_6666_6572_0003,

    /// <summary>Who may administer: grants, tokens, principals and custom roles, checked as a whole.</summary>
    AccessControl = 0x436f_6666_6572_0004,

    /// <summary>Access policy versions, numbered one after another.</summary>
    AccessPolicies = 0x436f_6666_6572_0005,
}
