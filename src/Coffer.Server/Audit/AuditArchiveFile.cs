using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Coffer.Audit;
using Coffer.Server.Audit.Sinks;
using Coffer.Server.Hosting;
using Coffer.Server.Management;

namespace Coffer.Server.Audit;

/// <summary>
/// The archive file format (docs/formats.md, "Audit archive"): JSON lines, a header object first, then
/// each record as <c>coffer audit export --format jsonl</c> writes it (with prevHash and hash), oldest
/// first. Readable by any SIEM; provable by Coffer, which recomputes every hash from the fields.
/// </summary>
internal static class AuditArchiveFile
{
    public const string Format = "coffer-audit-archive-v1";

    /// <summary>The file name of an archive: sortable, and it says which records it holds.</summary>
    public static string Name(long first, long through) =>
        string.Create(CultureInfo.InvariantCulture, $"audit-{first:D12}-{through:D12}.jsonl");

    /// <summary>Where an archive's file lies: always the name Coffer gives its range, never the name its
    /// row stores. The row's MAC does not cover the name, so an editor of the database could otherwise
    /// point a reader (verify, the report, a download) at any file (../../etc/...).</summary>
    public static string PathOf(string directory, AuditArchive archive) =>
        Path.Combine(directory, Name(archive.FirstSequence, archive.ThroughSequence));

    /// <summary>Writes a new archive file through a temporary name and fsync, so the final name only
    /// ever holds a complete file; returns the SHA-256 of its bytes.</summary>
    /// <param name="records">The records in order; the writer hashes and writes them as they come.</param>
    public static async Task<byte[]> WriteAsync(string path, long first, long through, byte[] firstPrevHash, IAsyncEnumerable<AuditRecord> records, CancellationToken ct)
    {
        var temporary = path + ".partial";
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        try
        {
            await using (var file = OwnerOnlyFiles.Open(temporary, new FileStreamOptions
            {
                Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 16, Options = FileOptions.Asynchronous,
            }))
            {
                var line = new System.Buffers.ArrayBufferWriter<byte>(1024);
                using (var json = new Utf8JsonWriter(line))
                {
                    JsonSerializer.Serialize(json, new AuditArchiveHeader(Format, first, through, Convert.ToHexStringLower(firstPrevHash)), ManagementJson.Default.AuditArchiveHeader);
                }

                await WriteLineAsync(file, sha, line, ct);
                await foreach (var record in records.WithCancellation(ct))
                {
                    AuditJsonLine.Write(line, record);
                    await WriteLineAsync(file, sha, line, ct);
                }

                await file.FlushAsync(ct);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
            return sha.GetHashAndReset();
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>
    /// Reads an archive file in pages of up to <paramref name="pageSize"/> records, oldest first, handing
    /// each to <paramref name="page"/> (false stops the read); returns the header and — when read to the
    /// end — the SHA-256 of the file's bytes. Memory stays bounded by the page, not the file.
    /// </summary>
    /// <exception cref="FormatException">A line is not what this format holds.</exception>
    public static async Task<(AuditArchiveHeader Header, byte[]? Sha256)> ReadAsync(
        string path, int pageSize, Func<IReadOnlyList<AuditRecord>, bool> page, CancellationToken ct)
    {
        using var sha = SHA256.Create();
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        await using var hashing = new CryptoStream(file, sha, CryptoStreamMode.Read);
        using var reader = new StreamReader(hashing, new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: false);
        AuditArchiveHeader? header = null;
        var records = new List<AuditRecord>(pageSize);
        var lineNumber = 0;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            lineNumber++;
            try
            {
                if (header is null)
                {
                    header = JsonSerializer.Deserialize(line, ManagementJson.Default.AuditArchiveHeader);
                    if (header is null || header.Format != Format)
                    {
                        throw new FormatException($"not a {Format} header");
                    }

                    continue;
                }

                var view = JsonSerializer.Deserialize(line, ManagementJson.Default.AuditRecordView) ?? throw new FormatException("an empty record");
                records.Add(AuditViews.Record(view));
            }
            catch (Exception e) when (e is JsonException or FormatException or ArgumentException or DecoderFallbackException)
            {
                throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"line {lineNumber} of {Path.GetFileName(path)} cannot be read ({e.GetType().Name})"), e);
            }

            if (records.Count == pageSize)
            {
                if (!page(records))
                {
                    return (header, null);
                }

                records = new List<AuditRecord>(pageSize);
            }
        }

        if (header is null)
        {
            throw new FormatException($"{Path.GetFileName(path)} is empty");
        }

        if (records.Count > 0 && !page(records))
        {
            return (header, null);
        }

        return (header, sha.Hash);
    }

    private static async ValueTask WriteLineAsync(FileStream file, IncrementalHash sha, System.Buffers.ArrayBufferWriter<byte> line, CancellationToken ct)
    {
        line.Write("\n"u8);
        sha.AppendData(line.WrittenSpan);
        await file.WriteAsync(line.WrittenMemory, ct);
        line.ResetWrittenCount();
    }
}
