using System.Globalization;
using System.Reflection;

namespace Coffer.Storage.Migrations;

/// <summary>
/// One numbered schema script, embedded as <c>Migrations/{engine}/NNNN_name.sql</c>. SQLite has every
/// script from 0001; PostgreSQL starts at its baseline, 0016, today's schema in one script. From 0017
/// on every change has a script of the same number in both folders, so a version number means the
/// same schema on both engines. A database records what it has applied in <c>schema_migrations</c>.
/// </summary>
internal sealed record Migration(int Version, string Name, string Script)
{
    /// <summary>SQLite's migrations in version order: 1, 2, 3, … with no gaps.</summary>
    public static IReadOnlyList<Migration> Sqlite { get; } = Load("Sqlite");

    /// <summary>PostgreSQL's: its baseline, then one after another with no gaps.</summary>
    public static IReadOnlyList<Migration> Postgres { get; } = Load("Postgres");

    /// <summary>The schema version of this build, which both engines reach.</summary>
    public static int Latest { get; } = Sqlite[^1].Version == Postgres[^1].Version
        ? Sqlite[^1].Version
        : throw new InvalidOperationException(
            $"The SQLite and PostgreSQL migrations end at different versions ({Sqlite[^1].Name}, {Postgres[^1].Name}); every schema change needs both.");

    public static IReadOnlyList<Migration> For(SqlDialect dialect) =>
        dialect.MigrationFolder == "Postgres" ? Postgres : Sqlite;

    private static Migration[] Load(string folder)
    {
        var prefix = $"Migrations/{folder}/";
        var assembly = typeof(Migration).Assembly;
        var migrations = assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))
            .Select(name => Read(assembly, prefix, name))
            .OrderBy(migration => migration.Version)
            .ToArray();
        if (migrations.Length == 0)
        {
            throw new InvalidOperationException($"No embedded {folder} migrations were found in Coffer.Storage.");
        }

        // A gap or a duplicate is a packaging mistake; fail loudly at start rather than skip a script.
        for (var i = 1; i < migrations.Length; i++)
        {
            if (migrations[i].Version != migrations[0].Version + i)
            {
                throw new InvalidOperationException(
                    $"Embedded {folder} migrations must be numbered one after another without gaps; found {migrations[i].Name} after {migrations[i - 1].Name}.");
            }
        }

        return folder == "Sqlite" && migrations[0].Version != 1
            ? throw new InvalidOperationException("The SQLite migrations must start at 0001.")
            : migrations;
    }

    private static Migration Read(Assembly assembly, string prefix, string resourceName)
    {
        var name = resourceName[prefix.Length..^".sql".Length];
        var underscore = name.IndexOf('_', StringComparison.Ordinal);
        if (underscore <= 0 || !int.TryParse(name.AsSpan(0, underscore), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            throw new InvalidOperationException($"Migration '{resourceName}' is not named NNNN_description.sql.");
        }

        using var stream = assembly.GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException($"Migration '{resourceName}' could not be read.");
        using var reader = new StreamReader(stream);
        return new Migration(version, name, reader.ReadToEnd());
    }
}
