namespace Coffer.Storage;

/// <summary>
/// The database was migrated by a newer Coffer than this one. Coffer refuses to run against it
/// rather than guess at a schema it does not know (downgrades are not supported).
/// </summary>
public sealed class SchemaVersionException : Exception
{
    public SchemaVersionException(int databaseVersion, int supportedVersion)
        : base($"The database has schema version {databaseVersion}, but this Coffer knows versions up to {supportedVersion}: " +
               "it was written by a newer Coffer. Run that version (or newer); downgrading a database is not supported.")
    {
        DatabaseVersion = databaseVersion;
        SupportedVersion = supportedVersion;
    }

    public SchemaVersionException() { }

    public SchemaVersionException(string message) : base(message) { }

    public SchemaVersionException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The highest migration recorded in the database.</summary>
    public int DatabaseVersion { get; }

    /// <summary>The highest migration this build of Coffer carries.</summary>
    public int SupportedVersion { get; }
}
