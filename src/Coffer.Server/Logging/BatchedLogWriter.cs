using System.Buffers;

namespace Coffer.Server.Logging;

/// <summary>
/// Collects UTF-8 log lines in memory and writes them to a stream in batches, every
/// <see cref="Interval"/> or when a batch reaches <see cref="MaxBatchBytes"/>.
/// </summary>
/// <remarks>
/// Why: the XKS spec asks for a log line per call, and at tens of thousands of calls per second the
/// console logger's hand-off of every line to its writer thread (a wake-up and a write per line)
/// cost half of Coffer's throughput (bench/README.md). Here a call only appends to a buffer under a
/// short lock; one write per batch reaches the kernel. Nothing is dropped: a producer that finds
/// the batch full writes it out itself (back-pressure), and <see cref="Dispose"/> flushes the rest.
/// </remarks>
public sealed class BatchedLogWriter : IDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);
    public const int MaxBatchBytes = 1 << 20;

    private readonly Stream _output;
    private readonly Lock _appendLock = new();
    private readonly Lock _writeLock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _flusher;
    private ArrayBufferWriter<byte> _batch = new(64 * 1024);
    private ArrayBufferWriter<byte> _spare = new(64 * 1024);
    private bool _disposed;

    public BatchedLogWriter(Stream output)
    {
        _output = output;
        _flusher = Task.Run(FlushPeriodicallyAsync);
    }

    /// <summary>Appends one line; <paramref name="line"/> carries no newline, one is added.</summary>
    public void Append(ReadOnlySpan<byte> line)
    {
        bool full;
        lock (_appendLock)
        {
            var span = _batch.GetSpan(line.Length + 1);
            line.CopyTo(span);
            span[line.Length] = (byte)'\n';
            _batch.Advance(line.Length + 1);
            full = _batch.WrittenCount >= MaxBatchBytes;
        }

        if (full)
        {
            Flush();
        }
    }

    /// <summary>Writes out everything appended so far.</summary>
    public void Flush()
    {
        lock (_writeLock)
        {
            ArrayBufferWriter<byte> batch;
            lock (_appendLock)
            {
                if (_batch.WrittenCount == 0)
                {
                    return;
                }

                batch = _batch;
                _batch = _spare;
            }

            try
            {
                _output.Write(batch.WrittenSpan);
                _output.Flush();
            }
            catch (IOException)
            {
                // The log's reader went away (closed pipe); the process must keep serving.
            }
            catch (ObjectDisposedException)
            {
            }

            batch.ResetWrittenCount();
            _spare = batch;
        }
    }

    private async Task FlushPeriodicallyAsync()
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                Flush();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _stop.Cancel();
        _flusher.Wait(TimeSpan.FromSeconds(2));
        Flush();
        _stop.Dispose();
    }
}
