using System.Buffers;
using System.Text.Json;
using Coffer.Audit;
using Coffer.Server.Hosting;

namespace Coffer.Server.Audit.Sinks;

/// <summary>
/// Appends one JSON object per record and line (the <c>coffer audit export --format jsonl</c> form)
/// to a file, fsync'd per batch, mode 0600; rotated by size: <c>audit.jsonl</c> → <c>audit.jsonl.1</c>
/// → … → <c>audit.jsonl.N</c>, the oldest deleted.
/// </summary>
/// <remarks>
/// A batch repeated after a crash (the forwarder is at-least-once) is not written twice: at open the
/// sink reads the last sequence in its files and skips records up to it. A line torn by a crash
/// mid-write was never confirmed, so it is cut off and written again.
/// </remarks>
internal sealed class FileSink : IAuditSink
{
    private readonly string _path;
    private readonly long _maxBytes;
    private readonly int _keep;
    private FileStream? _file;
    private long _lastWritten = -1;

    public FileSink(string path, long maxBytes, int keep)
    {
        _path = Path.GetFullPath(path);
        _maxBytes = maxBytes;
        _keep = keep;
    }

    public string Name => "file";

    public string Target => _path;

    public async Task DeliverAsync(IReadOnlyList<AuditRecord> records, CancellationToken ct)
    {
        var file = _file ??= await OpenAsync(ct);
        var lines = new ArrayBufferWriter<byte>(records.Count * 1024);
        foreach (var record in records)
        {
            if (record.Sequence <= _lastWritten)
            {
                continue;
            }

            AuditJsonLine.Write(lines, record);
            lines.Write("\n"u8);
        }

        if (lines.WrittenCount == 0)
        {
            return;
        }

        if (file.Length > 0 && file.Length + lines.WrittenCount > _maxBytes)
        {
            file = await RotateAsync(ct);
        }

        try
        {
            await file.WriteAsync(lines.WrittenMemory, ct);
            await file.FlushAsync(ct);
            file.Flush(flushToDisk: true);
        }
        catch
        {
            // Reopen next time: that cuts off whatever part of this batch reached the file.
            await CloseAsync();
            throw;
        }

        _lastWritten = records[^1].Sequence;
    }

    private async Task<FileStream> OpenAsync(CancellationToken ct)
    {
        OwnerOnlyFiles.CreateDirectory(Path.GetDirectoryName(_path)!);
        var file = Open(_path);
        try
        {
            var (end, last) = await LastLineAsync(file, ct);
            if (end < file.Length)
            {
                file.SetLength(end);
            }

            if (last is null && File.Exists(Rotated(1)))
            {
                // Crashed between rotating and writing: the newest records are in .1.
                await using var previous = new FileStream(Rotated(1), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                last = (await LastLineAsync(previous, ct)).Sequence;
            }

            _lastWritten = last ?? -1;
            file.Seek(0, SeekOrigin.End);
            return file;
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
    }

    // Audit lines are for their owner only, an existing file too.
    private static FileStream Open(string path) =>
        OwnerOnlyFiles.Open(path, new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.Read });

    /// <summary>Where the complete lines end, and the sequence of the last one (null when none).</summary>
    private static async Task<(long End, long? Sequence)> LastLineAsync(FileStream file, CancellationToken ct)
    {
        // The tail holds the last line whole: a record is at most a few tens of kilobytes of JSON.
        const int Tail = 1024 * 1024;
        var start = Math.Max(0, file.Length - Tail);
        var buffer = new byte[file.Length - start];
        file.Seek(start, SeekOrigin.Begin);
        await file.ReadExactlyAsync(buffer, ct);
        var end = Array.LastIndexOf(buffer, (byte)'\n');
        if (end <= 0)
        {
            return (start + end + 1, null);
        }

        var lineStart = Array.LastIndexOf(buffer, (byte)'\n', end - 1) + 1;

        using var json = JsonDocument.Parse(buffer.AsMemory(lineStart, end - lineStart));
        return (start + end + 1, json.RootElement.GetProperty("sequence").GetInt64());
    }

    /// <summary>.N-1 → .N, …, live → .1; what falls past <c>KeepFiles</c> is deleted.</summary>
    private async Task<FileStream> RotateAsync(CancellationToken ct)
    {
        await CloseAsync();
        File.Delete(Rotated(_keep));
        for (var i = _keep - 1; i >= 1; i--)
        {
            if (File.Exists(Rotated(i)))
            {
                File.Move(Rotated(i), Rotated(i + 1));
            }
        }

        File.Move(_path, Rotated(1));
        _file = Open(_path);
        ct.ThrowIfCancellationRequested();
        return _file;
    }

    private string Rotated(int n) => _path + "." + n.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private async Task CloseAsync()
    {
        if (_file is { } file)
        {
            _file = null;
            await file.DisposeAsync();
        }
    }

    public ValueTask DisposeAsync() => new(CloseAsync());
}
