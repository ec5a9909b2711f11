using Microsoft.Data.Sqlite;

namespace Coffer.Storage.Sqlite;

/// <summary>
/// Coffer's embedded storage: one SQLite file in WAL mode behind the repository ports.
/// </summary>
/// <remarks>
/// Thread-safe. Every operation takes its own connection from Microsoft.Data.Sqlite's pool (pooled
/// by connection string) and returns it when done; no connection is shared across threads. Every
/// write is one transaction started with BEGIN IMMEDIATE, so concurrent writers, in this process
/// or another, queue on SQLite's write lock instead of failing part-way.
/// </remarks>
public sealed partial class SqliteStorage : ICofferStorage
{
    private readonly string _connectionString;
    private readonly string _auditConnectionString;
    private volatile bool _disposed;

    private SqliteStorage(string connectionString)
    {
        _connectionString = connectionString;
        // The audit writer's own pool, with a short wait for the write lock (SqliteDialect.AuditConnectionPragmas).
        _auditConnectionString = new SqliteConnectionStringBuilder(connectionString) { DefaultTimeout = SqliteDialect.AuditCommandTimeoutSeconds }.ToString();
        KeyStores = new KeyStoreRepository(this);
        Keys = new KeyRepository(this);
        System = new SystemRepository(this);
        Audit = new AuditRepository(this);
        KillSwitches = new KillSwitchRepository(this);
        Alerts = new AlertRepository(this);
        Policies = new PolicyRepository(this);
        Rotation = (IRotationRepository)Keys;
        Principals = new PrincipalRepository(this);
        Approvals = new ApprovalRepository(this);
        Cluster = new Cluster.ClusterRepository(async ct => await OpenConnectionAsync(ct), SqliteDialect.NowMilliseconds);
    }

    public IKeyStoreRepository KeyStores { get; }

    public IKeyRepository Keys { get; }

    public ISystemRepository System { get; }

    public IAuditRepository Audit { get; }

    public IKillSwitchRepository KillSwitches { get; }

    public IAlertRepository Alerts { get; }
    public IPolicyRepository Policies { get; }
    public IRotationRepository Rotation { get; }

    public IPrincipalRepository Principals { get; }

    public IApprovalRepository Approvals { get; }

    public IClusterRepository Cluster { get; }

    /// <summary>The schema version this build migrates databases to.</summary>
    public static int SchemaVersion => Migrations.Migration.Latest;

    /// <summary>
    /// Opens (creating if missing) the database at <paramref name="databasePath"/>, switches it to
    /// WAL and brings its schema up to date. Safe to call concurrently from several processes.
    /// </summary>
    /// <exception cref="SchemaVersionException">The database was written by a newer Coffer.</exception>
    public static async Task<SqliteStorage> OpenAsync(string databasePath, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        var fullPath = Path.GetFullPath(databasePath);
        var directory = Path.GetDirectoryName(fullPath);
        if (directory is not null)
        {
            CreateOwnerOnly(directory, fullPath);
        }

        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = fullPath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            ForeignKeys = true,
            // Microsoft.Data.Sqlite's own retry on SQLITE_BUSY, in seconds; the busy_timeout pragma
            // (SqliteDialect.ConnectionPragmas) makes SQLite itself wait as well.
            DefaultTimeout = 30,
        }.ToString();

        var storage = new SqliteStorage(connectionString);
        try
        {
            await using var connection = await storage.OpenConnectionAsync(cancellationToken);
            await EnableWalAsync(connection, cancellationToken);
            await MigrateAsync(connection, cancellationToken);
            return storage;
        }
        catch
        {
            storage.Dispose();
            throw;
        }
    }

    /// <summary>Closes idle pooled connections so the file is released.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        ((AuditRepository)Audit).Dispose();
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
        using var audit = new SqliteConnection(_auditConnectionString);
        SqliteConnection.ClearPool(audit);
    }

    private Task<SqliteConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        OpenConnectionAsync(_connectionString, SqliteDialect.ConnectionPragmas, cancellationToken);

    /// <summary>A connection for audit writes: same file and durability, shorter lock wait.</summary>
    private Task<SqliteConnection> OpenAuditConnectionAsync(CancellationToken cancellationToken) =>
        OpenConnectionAsync(_auditConnectionString, SqliteDialect.AuditConnectionPragmas, cancellationToken);

    private async Task<SqliteConnection> OpenConnectionAsync(string connectionString, string pragmaText, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            using var pragmas = connection.CreateCommand();
            pragmas.CommandText = pragmaText;
            await pragmas.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>BEGIN IMMEDIATE: take the write lock before the first read, so a read-then-write
    /// transaction never has to upgrade its lock (which SQLite answers with SQLITE_BUSY).</summary>
    private static SqliteTransaction BeginWrite(SqliteConnection connection) => connection.BeginTransaction(deferred: false);

    /// <summary>A deferred transaction: one consistent snapshot for several reads, no write lock.</summary>
    private static SqliteTransaction BeginRead(SqliteConnection connection) => connection.BeginTransaction(deferred: true);

    /// <summary>
    /// The directory 0700 and the database file 0600 when they are new (docs/architecture.md, "Files on
    /// disk"): the file holds the audit trail, key names and token hashes. SQLite gives the -wal and
    /// -shm files it creates the database file's mode, so the file is made here, empty (an empty file
    /// is an empty database), rather than by SQLite with the process umask.
    /// </summary>
    private static void CreateOwnerOnly(string directory, string databasePath)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
            return;
        }

        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite };
        using (new FileStream(databasePath, options))
        {
        }
    }

    private static async Task EnableWalAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = SqliteDialect.EnableWal;
        var mode = (string?)await command.ExecuteScalarAsync(cancellationToken);
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            // WAL needs shared memory, which network file systems often lack; Coffer's concurrency
            // (readers alongside a writer) assumes it, so say so instead of running degraded.
            throw new InvalidOperationException(
                $"SQLite could not switch the database to WAL journal mode (it reports '{mode}'). Put the database on a local file system.");
        }
    }
}
