using Microsoft.Data.Sqlite;

namespace Coffer.Storage.Sqlite;

/// <summary>
/// Coffer's embedded storage, the default: one SQLite file in WAL mode (<see cref="SqliteDialect"/>).
/// </summary>
public static class SqliteStorage
{
    /// <summary>The schema version this build migrates databases to.</summary>
    public static int SchemaVersion => CofferStorage.SchemaVersion;

    /// <summary>
    /// Opens (creating if missing) the database at <paramref name="databasePath"/>, switches it to
    /// WAL and brings its schema up to date. Safe to call concurrently from several processes.
    /// </summary>
    /// <exception cref="SchemaVersionException">The database was written by a newer Coffer.</exception>
    public static async Task<CofferStorage> OpenAsync(string databasePath, CancellationToken cancellationToken = default)
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
        };

        // The audit writer's own pool, with a short wait for the write lock (SqliteDialect.AuditConnectionPragmas).
        var auditConnectionString = new SqliteConnectionStringBuilder(connectionString.ToString()) { DefaultTimeout = SqliteDialect.AuditCommandTimeoutSeconds };
        var storage = new CofferStorage(
            SqliteDialect.Instance,
            SqliteFactory.Instance.CreateDataSource(connectionString.ToString()),
            SqliteFactory.Instance.CreateDataSource(auditConnectionString.ToString()));
        try
        {
            await using (var connection = await storage.OpenConnectionAsync(cancellationToken))
            {
                await EnableWalAsync(connection, cancellationToken);
            }

            await storage.MigrateAsync(cancellationToken);
            return storage;
        }
        catch
        {
            storage.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads, without changing anything, whether the database file at <paramref name="databasePath"/>
    /// passes SQLite's <c>integrity_check</c> and which schema version it holds (0 when it has none):
    /// a restore checks a backup's database before it opens it, since opening migrates it.
    /// </summary>
    /// <exception cref="SqliteException">The file is not a SQLite database.</exception>
    public static async Task<(bool Intact, int SchemaVersion)> InspectAsync(string databasePath, CancellationToken cancellationToken = default)
    {
        var connectionString = new SqliteConnectionStringBuilder { DataSource = Path.GetFullPath(databasePath), Mode = SqliteOpenMode.ReadOnly, Pooling = false };
        await using var connection = new SqliteConnection(connectionString.ToString());
        await connection.OpenAsync(cancellationToken);
        await using var check = connection.CreateCommand();
        check.CommandText = "PRAGMA integrity_check";
        var intact = string.Equals((string?)await check.ExecuteScalarAsync(cancellationToken), "ok", StringComparison.Ordinal);
        await using var version = connection.CreateCommand();
        version.CommandText = "SELECT COALESCE((SELECT MAX(version) FROM schema_migrations), 0) WHERE EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations')";
        var schema = await version.ExecuteScalarAsync(cancellationToken);
        return (intact, schema is null or DBNull ? 0 : Convert.ToInt32(schema, global::System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Reads, without changing anything, the nodes registered in the database at
    /// <paramref name="databasePath"/> that have not stopped and reported within <paramref name="within"/>,
    /// with the age of their last report: a restore that would replace this database refuses while
    /// one of them may still be running on it.
    /// </summary>
    public static async Task<IReadOnlyList<(string NodeId, TimeSpan Age)>> RecentNodesAsync(string databasePath, TimeSpan within, CancellationToken cancellationToken = default)
    {
        var connectionString = new SqliteConnectionStringBuilder { DataSource = Path.GetFullPath(databasePath), Mode = SqliteOpenMode.ReadOnly, Pooling = false };
        await using var connection = new SqliteConnection(connectionString.ToString());
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT node_id, now - heartbeat_at FROM cluster_nodes, (SELECT {SqliteDialect.Instance.NowMilliseconds} AS now)
            WHERE stopped_at IS NULL AND heartbeat_at > now - $within
            """;
        command.Parameters.AddWithValue("$within", (long)within.TotalMilliseconds);
        var nodes = new List<(string, TimeSpan)>();
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                nodes.Add((reader.GetString(0), TimeSpan.FromMilliseconds(Math.Max(0, reader.GetInt64(1)))));
            }
        }
        catch (SqliteException e) when (e.Message.Contains("no such table", StringComparison.Ordinal))
        {
            // A database from before the node registry, or not Coffer's: no node has reported in it.
        }

        return nodes;
    }

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

    private static async Task EnableWalAsync(global::System.Data.Common.DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
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
