using System.Globalization;
using System.Reflection;

namespace Coffer.Storage.Migrations;

/// <summary>
/// One numbered schema script, embedded as <c>Migrations/NNNN_name.sql</c>. The scripts are shared
/// by every dialect; a database records what it has applied in <c>schema_migrations</c>.
/// </summary>
internal sealed record Migration(int Version, string Name, string Script)
{
    private const string ResourcePrefix = "Migrations/";

    /// <summary>All embedded migrations in version order: 1, 2, 3, … with no gaps.</summary>
    public static IReadOnlyList<Migration> All { get; } = Load();

    public static int Latest => All[^1].Version;

    private static Migration[] Load()
    {
        var assembly = typeof(Migration).Assembly;
        var migrations = assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(ResourcePrefix, StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))
            .Select(name => Read(assembly, name))
            .OrderBy(migration => migration.Version)
            .ToArray();

        // A gap or a duplicate is a packaging mistake; fail loudly at start rather than skip a script.
        for (var i = 0; i < migrations.Length; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new InvalidOperationException(
                    $"Embedded migrations must be numbered 1, 2, 3, … without gaps; found {migrations[i].Name} at position {i + 1}.");
            }
        }

        return migrations.Length > 0
            ? migrations
            : throw new InvalidOperationException("No embedded migrations were found in Coffer.Storage.");
    }

    private static Migration Read(Assembly assembly, string resourceName)
    {
        var name = resourceName[ResourcePrefix.Length..^".sql".Length];
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
