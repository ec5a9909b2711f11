using Coffer.Storage;
using Coffer.Storage.Postgres;
using Coffer.Storage.Sqlite;
using Npgsql;

namespace Coffer.Server.Hosting;

/// <summary>
/// Where Coffer keeps its database (docs/storage.md): <c>sqlite</c>, one file in the data directory
/// (the default, one node), or <c>postgres</c>, a database several nodes share.
/// </summary>
public sealed class StorageOptions
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    /// <summary><c>sqlite</c> or <c>postgres</c>.</summary>
    public string Engine { get; set; } = Sqlite;

    /// <summary>PostgreSQL: an Npgsql connection string without a password, e.g.
    /// <c>Host=db.internal;Database=coffer;Username=coffer;SSL Mode=VerifyFull</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>PostgreSQL: a file holding the password (its whole content, a trailing newline ignored).</summary>
    public string? PasswordFile { get; set; }

    /// <summary>PostgreSQL: the password itself, meant for the environment (<c>COFFER_Storage__Password</c>),
    /// never for the configuration file.</summary>
    public string? Password { get; set; }

    internal void Validate()
    {
        if (Engine is not (Sqlite or Postgres))
        {
            throw new InvalidOperationException($"Storage.Engine must be '{Sqlite}' or '{Postgres}', not '{Engine}'.");
        }

        if (Engine == Sqlite)
        {
            if (ConnectionString is not null || PasswordFile is not null || Password is not null)
            {
                throw new InvalidOperationException("Storage.ConnectionString, PasswordFile and Password are for the postgres engine; SQLite keeps its file in DataDirectory (or DatabasePath).");
            }

            return;
        }

        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new InvalidOperationException("The postgres storage engine needs Storage.ConnectionString (Host, Database, Username, ...).");
        }

        NpgsqlConnectionStringBuilder parsed;
        try
        {
            parsed = new NpgsqlConnectionStringBuilder(ConnectionString);
        }
        catch (ArgumentException exception)
        {
            // Npgsql's message names the keyword, never a value.
            throw new InvalidOperationException($"Storage.ConnectionString is not a valid PostgreSQL connection string: {exception.Message}", exception);
        }

        // A password written into the connection string sits in clear in the configuration file (or a
        // process listing); refuse it rather than warn, so it is never the easy way.
        if (parsed.Password is not null || parsed.Passfile is not null)
        {
            throw new InvalidOperationException(
                "Storage.ConnectionString must not carry a password; put it in the file named by Storage.PasswordFile or in the COFFER_Storage__Password environment variable.");
        }

        if (PasswordFile is not null && Password is not null)
        {
            throw new InvalidOperationException("Give the PostgreSQL password one way: Storage.PasswordFile or Storage.Password (COFFER_Storage__Password), not both.");
        }
    }

    /// <summary>Opens the configured storage and brings its schema up to date.</summary>
    internal async Task<CofferStorage> OpenAsync(CofferOptions options, CancellationToken ct)
    {
        Validate();
        if (Engine == Sqlite)
        {
            return await SqliteStorage.OpenAsync(options.ResolvedDatabasePath, ct);
        }

        return await PostgresStorage.OpenAsync(ConnectionString!, await ReadPasswordAsync(ct), ct);
    }

    /// <summary>PostgreSQL: the password from <see cref="PasswordFile"/> or <see cref="Password"/>, if any.</summary>
    internal async Task<string?> ReadPasswordAsync(CancellationToken ct) =>
        PasswordFile is null ? Password : (await File.ReadAllTextAsync(PasswordFile, ct)).TrimEnd('\r', '\n');
}
