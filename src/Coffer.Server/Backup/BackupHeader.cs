using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Coffer.Server.Backup;

/// <summary>
/// What a backup file says about itself before its body (docs/formats.md, "Backup file"): a notice in
/// plain words that it holds only sealed material, and what a restore must check — the format, the
/// schema version, when and where it was made, which master key's check value it carries (an id, never
/// the key) and the body's length and SHA-256.
/// </summary>
internal sealed record BackupHeader(
    string Engine,
    int SchemaVersion,
    DateTimeOffset CreatedAt,
    string Node,
    string MasterCheckId,
    long BodyLength,
    string BodySha256)
{
    /// <summary>The first line of every backup file.</summary>
    public const string Magic = "COFFER BACKUP";

    public const int FormatVersion = 1;

    private static ReadOnlySpan<byte> MagicLine => "COFFER BACKUP\n"u8;

    /// <summary>The database of one SQLite node.</summary>
    public const string SqliteEngine = "sqlite";

    public const string Notice =
        "This file holds a Coffer database. Every key and secret in it is sealed under the master key, which is not in this file: " +
        "without that master key the backup opens nothing. Keep the master key (its shares, its HSM or its key file) apart from it.";

    // Far more than a header takes; a file whose first bytes hold no blank line within it is not a backup.
    private const int MaxHeaderBytes = 4096;

    /// <summary>
    /// The id of a master key's check value (docs/formats.md): the first 16 bytes of SHA-256 over the
    /// stored check value, in hex. The check value is a seal under the key, so its hash names the key
    /// a backup needs without telling anything about it.
    /// </summary>
    public static string MasterCheckIdOf(string storedCheckValue)
    {
        var hash = SHA256.HashData(Convert.FromBase64String(storedCheckValue));
        return Convert.ToHexStringLower(hash.AsSpan(0, 16));
    }

    /// <summary>One line for audit records and the CLI: what the backup is, never anything secret.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"backup of node {Node} at {CreatedAt.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}, schema {SchemaVersion}, master key check {MasterCheckId}, {BodyLength} bytes, SHA-256 {BodySha256}");

    /// <summary>The header's bytes: lines of <c>name: value</c>, ended by an empty line.</summary>
    public byte[] ToBytes()
    {
        var text = new StringBuilder()
            .Append(Magic).Append('\n')
            .Append(CultureInfo.InvariantCulture, $"format: {FormatVersion}\n")
            .Append(CultureInfo.InvariantCulture, $"notice: {Notice}\n")
            .Append(CultureInfo.InvariantCulture, $"engine: {Engine}\n")
            .Append(CultureInfo.InvariantCulture, $"schema-version: {SchemaVersion}\n")
            .Append(CultureInfo.InvariantCulture, $"created: {CreatedAt.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}\n")
            .Append(CultureInfo.InvariantCulture, $"node: {Node}\n")
            .Append(CultureInfo.InvariantCulture, $"master-check-id: {MasterCheckId}\n")
            .Append(CultureInfo.InvariantCulture, $"body-length: {BodyLength}\n")
            .Append(CultureInfo.InvariantCulture, $"body-sha256: {BodySha256}\n")
            .Append('\n');
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>Reads the header at the start of <paramref name="stream"/>, leaving the stream at the body.</summary>
    /// <exception cref="BackupFileException">It is not a backup header this build reads.</exception>
    public static BackupHeader Read(Stream stream)
    {
        var bytes = new List<byte>(1024);
        while (!EndsWithBlankLine(bytes))
        {
            var next = stream.ReadByte();
            if (next < 0)
            {
                throw new BackupFileException(bytes.Count == 0 ? "the file is empty." : bytes.Count < MagicLine.Length ? "it does not start with a Coffer backup header." : "it ends inside its header: it is truncated.");
            }

            if (bytes.Count == MaxHeaderBytes)
            {
                throw new BackupFileException("it does not start with a Coffer backup header.");
            }

            bytes.Add((byte)next);
            if (bytes.Count == MagicLine.Length && !bytes.SequenceEqual(MagicLine.ToArray()))
            {
                throw new BackupFileException("it does not start with a Coffer backup header.");
            }
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes.ToArray());
        }
        catch (DecoderFallbackException)
        {
            throw new BackupFileException("it does not start with a Coffer backup header.");
        }

        // lines[0] is the magic line, checked as it was read.
        var lines = text.TrimEnd('\n').Split('\n');

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(": ", StringComparison.Ordinal);
            if (colon <= 0 || !fields.TryAdd(line[..colon], line[(colon + 2)..]))
            {
                throw new BackupFileException($"its header has a malformed or repeated line ('{Cut(line)}').");
            }
        }

        var format = Field(fields, "format");
        if (format != FormatVersion.ToString(CultureInfo.InvariantCulture))
        {
            throw new BackupFileException($"it is in backup format {Cut(format)}; this Coffer reads format {FormatVersion}.");
        }

        var header = new BackupHeader(
            Field(fields, "engine"),
            (int)Number(fields, "schema-version", int.MaxValue),
            Time(fields, "created"),
            Field(fields, "node"),
            Field(fields, "master-check-id"),
            Number(fields, "body-length", long.MaxValue),
            Field(fields, "body-sha256"));
        if (header.Engine != SqliteEngine)
        {
            throw new BackupFileException($"it holds a '{Cut(header.Engine)}' database; coffer restore restores SQLite backups.");
        }

        if (header.BodySha256.Length != 64 || !header.BodySha256.All(Uri.IsHexDigit))
        {
            throw new BackupFileException("its body-sha256 is not 64 hex digits.");
        }

        return header;
    }

    private static bool EndsWithBlankLine(List<byte> bytes) => bytes.Count >= 2 && bytes[^1] == '\n' && bytes[^2] == '\n';

    private static string Field(Dictionary<string, string> fields, string name) =>
        fields.TryGetValue(name, out var value) && value.Length > 0 ? value : throw new BackupFileException($"its header has no {name}.");

    private static long Number(Dictionary<string, string> fields, string name, long max) =>
        long.TryParse(Field(fields, name), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value <= max
            ? value
            : throw new BackupFileException($"its {name} is not a whole number.");

    private static DateTimeOffset Time(Dictionary<string, string> fields, string name) =>
        DateTimeOffset.TryParse(Field(fields, name), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value)
            ? value
            : throw new BackupFileException($"its {name} is not a time.");

    private static string Cut(string text) => text.Length > 40 ? text[..40] + "..." : text;
}

/// <summary>A file that is not a whole, intact backup this build reads; the message says why.</summary>
internal sealed class BackupFileException(string message) : Exception(message);
