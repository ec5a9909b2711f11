using Npgsql;

namespace Coffer.Storage.Postgres;

/// <summary>
/// Coffer's storage on PostgreSQL, for several nodes sharing one database (<see cref="PostgresDialect"/>).
/// </summary>
public static class PostgresStorage
{
    /// <summary>
    /// Connects with <paramref name="connectionString"/> (the password may be given apart, so it
    /// never has to be written into the connection string) and brings the schema up to date. Safe
    /// when several nodes start together: one migrates, the others wait for it.
    /// </summary>
    /// <exception cref="SchemaVersionException">The database was written by a newer Coffer.</exception>
    public static async Task<CofferStorage> OpenAsync(string connectionString, string? password = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (password is not null)
        {
            builder.Password = password;
        }

        var audit = new NpgsqlConnectionStringBuilder(builder.ConnectionString)
        {
            Options = string.IsNullOrEmpty(builder.Options) ? PostgresDialect.AuditConnectionOptions : $"{builder.Options} {PostgresDialect.AuditConnectionOptions}",
            Timeout = PostgresDialect.AuditTimeoutSeconds,
            CommandTimeout = PostgresDialect.AuditTimeoutSeconds,
            // A timed-out statement breaks its connection at once instead of waiting for the server to
            // confirm the cancellation, which a silent network never does; the writer reconnects.
            CancellationTimeout = -1,
        };
        var storage = new CofferStorage(PostgresDialect.Instance, NpgsqlDataSource.Create(builder), NpgsqlDataSource.Create(audit));
        try
        {
            await storage.MigrateAsync(cancellationToken);
            return storage;
        }
        catch
        {
            storage.Dispose();
            throw;
        }
    }
}
