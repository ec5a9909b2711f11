namespace Coffer.Server.Backup;

/// <summary>A backup taken and not yet sent: its header and its body, a file deleted when this is disposed.</summary>
internal sealed class BackupSnapshot(BackupHeader header, Stream body) : IAsyncDisposable
{
    public BackupHeader Header { get; } = header;

    /// <summary>Writes the backup file: the header, then the body.</summary>
    public async Task WriteToAsync(Stream destination, CancellationToken ct)
    {
        await destination.WriteAsync(Header.ToBytes(), ct);
        await body.CopyToAsync(destination, ct);
    }

    public ValueTask DisposeAsync() => body.DisposeAsync();
}
