using System.Data.Common;
using Coffer.Storage.Repositories;

namespace Coffer.Storage;

/// <summary>
/// Coffer's storage on one SQL engine: the repository ports over a pool of connections and the
/// engine's <see cref="SqlDialect"/>. Opened by <see cref="Sqlite.SqliteStorage.OpenAsync"/> (one
/// file, the default) or <see cref="Postgres.PostgresStorage.OpenAsync"/> (a database shared by
/// several nodes).
/// </summary>
/// <remarks>
/// Thread-safe. Every operation takes its own connection from the pool and returns it when done; no
/// connection is shared across threads, except the audit writer's, which is used under its own gate.
/// How each write stays correct with several writers at once is in docs/storage.md.
/// </remarks>
public sealed class CofferStorage : ICofferStorage
{
    private readonly DbDataSource _connections;
    private readonly DbDataSource _auditConnections;
    private readonly AuditRepository _audit;
    private volatile bool _disposed;

    internal CofferStorage(SqlDialect dialect, DbDataSource connections, DbDataSource auditConnections)
    {
        Dialect = dialect;
        _connections = connections;
        _auditConnections = auditConnections;
        KeyStores = new KeyStoreRepository(this);
        var keys = new KeyRepository(this);
        Keys = keys;
        Rotation = keys;
        System = new SystemRepository(this);
        _audit = new AuditRepository(this);
        KillSwitches = new KillSwitchRepository(this);
        Alerts = new AlertRepository(this);
        Policies = new PolicyRepository(this);
        Principals = new PrincipalRepository(this);
        Approvals = new ApprovalRepository(this);
        SealedData = new SealedDataRepository(this);
        Cluster = new Cluster.ClusterRepository(OpenConnectionAsync, dialect.NowMilliseconds);
        ConsoleSessions = new ConsoleSessionRepository(this);
        Traffic = new TrafficRepository(this);
    }

    /// <summary>The schema version this build migrates databases to (the same on every engine).</summary>
    public static int SchemaVersion => Migrations.Migration.Latest;

    public IKeyStoreRepository KeyStores { get; }

    public IKeyRepository Keys { get; }

    public ISystemRepository System { get; }

    public IAuditRepository Audit => _audit;

    public IKillSwitchRepository KillSwitches { get; }

    public IAlertRepository Alerts { get; }

    public IPolicyRepository Policies { get; }

    public IRotationRepository Rotation { get; }

    public IPrincipalRepository Principals { get; }

    public IApprovalRepository Approvals { get; }

    public IClusterRepository Cluster { get; }

    public IConsoleSessionRepository ConsoleSessions { get; }

    public ITrafficRepository Traffic { get; }

    public ISealedDataRepository SealedData { get; }

    internal SqlDialect Dialect { get; }

    /// <summary>Closes the audit writer and the pooled connections.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _audit.Dispose();
        Dialect.Release(_connections);
        Dialect.Release(_auditConnections);
        _connections.Dispose();
        _auditConnections.Dispose();
    }

    /// <summary>Whether <see cref="CopyToFileAsync"/> can copy this engine's database (SQLite only).</summary>
    public bool CanCopyToFile => Dialect is Sqlite.SqliteDialect;

    /// <summary>
    /// Writes a consistent copy of the database, as of one instant, into <paramref name="path"/>, which
    /// must not exist or be empty; writers, the audit writer among them, go on meanwhile.
    /// </summary>
    /// <exception cref="NotSupportedException">The engine is PostgreSQL (<see cref="CanCopyToFile"/>).</exception>
    public async Task CopyToFileAsync(string path, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        await using var connection = await OpenConnectionAsync(ct);
        await Dialect.CopyToFileAsync(connection, path, ct);
    }

    internal Task<DbConnection> OpenConnectionAsync(CancellationToken ct) => OpenAsync(_connections, forAudit: false, ct);

    /// <summary>A connection for audit writes: same database and durability, a shorter lock wait.</summary>
    internal Task<DbConnection> OpenAuditConnectionAsync(CancellationToken ct) => OpenAsync(_auditConnections, forAudit: true, ct);

    internal Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct) => Dialect.BeginWriteAsync(connection, ct);

    internal Task<DbTransaction> BeginReadAsync(DbConnection connection, CancellationToken ct) => Dialect.BeginReadAsync(connection, ct);

    /// <summary>Brings the schema up to date; the engine entry points call it once, when opening.</summary>
    internal async Task MigrateAsync(CancellationToken ct)
    {
        await using var connection = await OpenConnectionAsync(ct);
        await Migrations.Migrator.MigrateAsync(this, connection, ct);
    }

    private async Task<DbConnection> OpenAsync(DbDataSource source, bool forAudit, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var connection = await source.OpenConnectionAsync(ct);
        try
        {
            await Dialect.PrepareAsync(connection, forAudit, ct);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
