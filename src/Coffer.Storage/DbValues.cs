using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Coffer.Keys;

namespace Coffer.Storage;

/// <summary>
/// How domain values are written to columns, the same for every dialect. Kept explicit (no enum
/// <c>ToString</c>, no driver defaults) so renaming a C# member never changes what is on disk.
/// </summary>
internal static class DbValues
{
    // Fixed width and always UTC, so text order is time order and the exact tick round-trips.
    private const string TimeFormat = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffff'Z'";

    public static string Time(DateTimeOffset value) =>
        value.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    public static string? Time(DateTimeOffset? value) => value is { } v ? Time(v) : null;

    public static DateTimeOffset ParseTime(string text) =>
        new(DateTime.ParseExact(text, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal), TimeSpan.Zero);

    public static DateTimeOffset? ParseOptionalTime(string? text) => text is null ? null : ParseTime(text);

    public static string State(KeyVersionState state) => state switch
    {
        KeyVersionState.PreActive => "PreActive",
        KeyVersionState.Active => "Active",
        KeyVersionState.Deactivated => "Deactivated",
        KeyVersionState.Compromised => "Compromised",
        KeyVersionState.Destroyed => "Destroyed",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Unknown key version state."),
    };

    public static KeyVersionState ParseState(string text) => text switch
    {
        "PreActive" => KeyVersionState.PreActive,
        "Active" => KeyVersionState.Active,
        "Deactivated" => KeyVersionState.Deactivated,
        "Compromised" => KeyVersionState.Compromised,
        "Destroyed" => KeyVersionState.Destroyed,
        _ => throw new InvalidDataException($"Unknown key version state '{text}' in the database."),
    };

    /// <summary>Tags as a JSON object, names in ordinal order so equal tags store equal text.</summary>
    public static string Tags(IReadOnlyDictionary<string, string> tags)
    {
        var ordered = new Dictionary<string, string>(tags.Count, StringComparer.Ordinal);
        foreach (var (name, value) in tags.OrderBy(tag => tag.Key, StringComparer.Ordinal))
        {
            ordered.Add(name, value);
        }

        return JsonSerializer.Serialize(ordered, StorageJsonContext.Default.DictionaryStringString);
    }

    public static IReadOnlyDictionary<string, string> ParseTags(string json) =>
        JsonSerializer.Deserialize(json, StorageJsonContext.Default.DictionaryStringString)
        ?? throw new InvalidDataException("Key tags in the database are JSON null.");

    /// <summary>A list of strings as a JSON array, in the order given.</summary>
    public static string Strings(IReadOnlyList<string> values) =>
        JsonSerializer.Serialize(values.ToList(), StorageJsonContext.Default.ListString);

    public static IReadOnlyList<string> ParseStrings(string json) =>
        JsonSerializer.Deserialize(json, StorageJsonContext.Default.ListString)
        ?? throw new InvalidDataException("A list in the database is JSON null.");

    /// <summary>
    /// A LIKE pattern matching <paramref name="text"/> anywhere, with LIKE's wildcards escaped by
    /// '\' and ASCII letters lowered, to be compared with <c>lower(column)</c>. Only ASCII folds:
    /// SQLite's lower() folds nothing else, and both sides must fold the same way.
    /// </summary>
    public static string ContainsPattern(string text)
    {
        var pattern = new StringBuilder(text.Length + 2).Append('%');
        foreach (var c in text)
        {
            if (c is '%' or '_' or '\\')
            {
                pattern.Append('\\');
            }

            pattern.Append(char.IsAsciiLetterUpper(c) ? (char)(c | 0x20) : c);
        }

        return pattern.Append('%').ToString();
    }
}

[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(List<string>))]
internal sealed partial class StorageJsonContext : JsonSerializerContext;
