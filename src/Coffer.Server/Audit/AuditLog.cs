using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Coffer.Audit;
using Coffer.Crypto;
using Coffer.Storage;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Audit;

/// <summary>
/// The node's audit log: appends hash-chained records and answers only once they are durable
/// (docs/design.md, "Audit"; Vault's audit broker: the operation fails unless the record was accepted).
/// </summary>
/// <remarks>
/// <para>
/// Group commit: callers queue events; one writer takes everything queued, gives each event its
/// sequence number, time and hash, and writes the batch with one checkpoint (a MAC over the new head)
/// in one transaction — one fsync for the whole batch — then completes every caller of that batch.
/// </para>
/// <para>
/// One chain for the cluster: the batch is chained inside that transaction, from the end of the
/// stored chain read while holding the chain's lock (<see cref="IAuditRepository.AppendAsync(Func{AuditChainEnd, AuditChainedBatch}, CancellationToken)"/>),
/// so batches of every node sharing the database interleave into one chain (docs/cluster.md, "One audit log").
/// </para>
/// <para>
/// The writer has a thread of its own, woken directly by the first event queued while it sleeps. On
/// the thread pool its wake-up and the batch's answers each waited behind every queued request
/// (about 0.7 ms apiece at 128 clients, measured), and every audited call waits for both.
/// </para>
/// <para>
/// Failure: a batch that cannot be written fails all its callers with
/// <see cref="AuditUnavailableException"/>; the transaction rolled back, so the next batch simply
/// chains from the stored end again and service resumes by itself once the store is writable again.
/// </para>
/// <para>
/// Sealed: the checkpoint key comes from the master key, so while sealed batches are chained but carry
/// no checkpoint; the first batch after unseal writes one that covers them.
/// </para>
/// <para>Thread-safe. <see cref="AppendAsync"/> never blocks on I/O itself.</para>
/// </remarks>
internal sealed partial class AuditLog : IAsyncDisposable
{
    /// <summary>The benchmark-only switch (honoured by <c>coffer dev</c> alone, never a configuration option).</summary>
    public const string UnauditedEnvironmentVariable = "COFFER_BENCHMARK_UNAUDITED";

    /// <summary>Most records in one transaction; a burst larger than this becomes several batches.</summary>
    internal const int MaxBatch = 4096;

    private readonly ConcurrentQueue<Pending> _queue = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly TaskCompletionSource _writerDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IAuditRepository _repository;
    private readonly string _node;
    private readonly TimeProvider _time;
    private readonly ILogger<AuditLog> _logger;
    private readonly Lock _keyLock = new();
    private byte[]? _checkpointKey;
    private int _writerAsleep; // 1 while the writer waits for _wake: the next Append releases it once
    private volatile bool _closing; // no new events (DisposeAsync, or the writer stopped)
    private int _writerStopped; // the writer is gone: an event queued now fails at once
    private volatile HeadState _head;
    private long _lastCheckpoint;
    private long _batches;
    private long _batchedRecords;
    private long _commitTicks;
    private long _lockTicks;

    private AuditLog(IAuditRepository repository, string node, TimeProvider time, ILogger<AuditLog> logger, AuditHead head, long lastCheckpoint, bool enabled)
    {
        _lastCheckpoint = lastCheckpoint;
        _repository = repository;
        _node = AuditRecord.NormalizeNode(node);
        _time = time;
        _logger = logger;
        _head = new HeadState(head);
        Enabled = enabled;
        if (enabled)
        {
            new Thread(RunWriter) { IsBackground = true, Name = "Coffer audit writer" }.Start();
        }
        else
        {
            _writerDone.SetResult();
        }
    }

    /// <summary>False only in a benchmark run with <see cref="UnauditedEnvironmentVariable"/>: then
    /// <see cref="AppendAsync"/> records nothing.</summary>
    public bool Enabled { get; }

    /// <summary>The last record this node committed (what verify compares the stored chain with).</summary>
    public AuditHead Head => _head.Head;

    /// <summary>The sequence of the last checkpoint this node wrote or found at start (0 for none).
    /// Records after it were written without the checkpoint key (while sealed); the next checkpoint
    /// covers them.</summary>
    public long LastCheckpoint => Interlocked.Read(ref _lastCheckpoint);

    /// <summary>Committed batches, the records in them, and the time spent writing them (metrics): their
    /// ratios are the mean group-commit size and the mean commit time, which bound audited throughput.
    /// <c>LockWait</c>, part of the commit time, is the time until the chain's lock was held and its end
    /// read: what this node waited for the other nodes' writers (docs/cluster.md, "One audit log").</summary>
    public (long Batches, long Records, TimeSpan CommitTime, TimeSpan LockWait) BatchTotals =>
        (Interlocked.Read(ref _batches), Interlocked.Read(ref _batchedRecords), TimeSpan.FromTicks(Interlocked.Read(ref _commitTicks)),
            TimeSpan.FromTicks(Interlocked.Read(ref _lockTicks)));

    /// <summary>Loads the chain head from storage and starts the writer.</summary>
    public static async Task<AuditLog> StartAsync(IAuditRepository repository, string node, TimeProvider time, ILogger<AuditLog> logger, bool enabled = true, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentException.ThrowIfNullOrEmpty(node);
        var head = await repository.GetHeadAsync(ct);
        var lastCheckpoint = await repository.GetLastCheckpointAsync(ct);
        return new AuditLog(repository, node, time, logger, head, lastCheckpoint, enabled);
    }

    /// <summary>
    /// Records <paramref name="auditEvent"/>; completes when the record is durable.
    /// </summary>
    /// <exception cref="AuditUnavailableException">It could not be written: the caller must not carry out
    /// (or must fail) what it describes. Nothing of the record was written.</exception>
    /// <remarks>Cancelling stops the wait, not the write: a queued record is still written.</remarks>
    public ValueTask AppendAsync(AuditEvent auditEvent, CancellationToken ct = default) => Append(auditEvent, answersOnly: false, ct);

    /// <summary>
    /// <see cref="AppendAsync"/> for a caller that, once the record is durable, only writes its answer
    /// (the XKS hot path): its continuation runs on the audit writer's thread once the batch is
    /// durable, one caller after another, instead of each taking its own hop through the thread pool.
    /// </summary>
    /// <remarks>Only for code that neither blocks nor waits on I/O after the await — the rest of its
    /// batch and the next batch wait behind it. Kestrel may go on to read the connection's next request
    /// on that thread too; the XKS path up to its own append blocks nowhere (HSM calls go to their
    /// workers). Management changes (database, HSM) use <see cref="AppendAsync"/>.</remarks>
    public ValueTask AppendThenAnswerAsync(AuditEvent auditEvent) => Append(auditEvent, answersOnly: true, CancellationToken.None);

    private ValueTask Append(AuditEvent auditEvent, bool answersOnly, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        if (!Enabled)
        {
            return ValueTask.CompletedTask;
        }

        if (string.IsNullOrEmpty(auditEvent.Action) || !Enum.IsDefined(auditEvent.Outcome))
        {
            throw new ArgumentException("An audit event needs an action and a defined outcome.", nameof(auditEvent));
        }

        if (_closing)
        {
            throw ShutDown();
        }

        var pending = new Pending(auditEvent, _node, answersOnly);
        _queue.Enqueue(pending);
        if (Volatile.Read(ref _writerStopped) == 1)
        {
            // Raced with the writer's last look at the queue: nobody will write it.
            pending.Done.TrySetException(ShutDown());
        }
        else
        {
            WakeWriter();
        }

        return new ValueTask(ct.CanBeCanceled ? pending.Done.Task.WaitAsync(ct) : pending.Done.Task);
    }

    /// <summary>Gives the writer the checkpoint key derived from this master key (at unseal, when no
    /// rekey has stored the key it keeps).</summary>
    public void SetCheckpointKey(MasterKey master)
    {
        ArgumentNullException.ThrowIfNull(master);
        SetCheckpointKey(master.DeriveMacKey(MacPurpose.AuditCheckpoint));
    }

    /// <summary>Gives the writer this checkpoint key, which it now owns and zeroes when done: the key a
    /// rekey kept, so checkpoints and archive signatures made before it still verify
    /// (docs/master-key.md, "coffer rekey").</summary>
    public void SetCheckpointKey(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_keyLock)
        {
            Zero(_checkpointKey);
            _checkpointKey = key;
        }
    }

    /// <summary>Forgets the checkpoint key (at seal); later batches carry no checkpoint until unseal.</summary>
    public void ClearCheckpointKey()
    {
        lock (_keyLock)
        {
            Zero(_checkpointKey);
            _checkpointKey = null;
        }
    }

    /// <summary>A copy of the checkpoint key for verification, or null while sealed. The caller zeroes it.</summary>
    internal byte[]? CopyCheckpointKey()
    {
        lock (_keyLock)
        {
            return _checkpointKey?.ToArray();
        }
    }

    /// <summary>Stops taking events, writes what is queued, and forgets the key.</summary>
    public async ValueTask DisposeAsync()
    {
        _closing = true;
        WakeWriter();
        await _writerDone.Task;
        ClearCheckpointKey();
    }

    private void RunWriter()
    {
        try
        {
            WriteUntilClosed();
        }
        catch (Exception e)
        {
            // Only a bug gets here; every call after it fails instead of waiting for a writer.
            Log.WriterStopped(_logger, e);
        }
        finally
        {
            _closing = true;
            Interlocked.Exchange(ref _writerStopped, 1);
            while (_queue.TryDequeue(out var late))
            {
                late.Done.TrySetException(ShutDown());
            }

            _writerDone.TrySetResult();
        }
    }

    private void WriteUntilClosed()
    {
        var batch = new List<Pending>(64);
        var records = new List<AuditRecord>(64);
        while (WaitForEvents())
        {
            while (batch.Count < MaxBatch && _queue.TryDequeue(out var pending))
            {
                batch.Add(pending);
            }

            AuditUnavailableException? failure = null;
            try
            {
                WriteBatch(batch, records);
            }
            catch (Exception e)
            {
                if (e is ConflictException)
                {
                    // The stored chain ends before (or elsewhere at) the record this node last wrote:
                    // records were removed or rewritten outside Coffer. Appending would hide that, so
                    // every batch fails until an operator looks (verify says where).
                    Log.ChainMoved(_logger, _head.Head.Sequence);
                }

                Log.BatchFailed(_logger, batch.Count, _head.Head.Sequence, e.GetType().Name, e);
                failure = new AuditUnavailableException(e);
            }

            // Answers the batch from this thread: XKS callers (AppendThenAnswerAsync) write their
            // responses right here, the others resume on the thread pool.
            foreach (var pending in batch)
            {
                if (failure is null)
                {
                    pending.Done.TrySetResult();
                }
                else
                {
                    pending.Done.TrySetException(failure);
                }
            }

            batch.Clear();
            records.Clear();
        }
    }

    // False once closing and nothing is left. The flag and the re-check close the race with Append:
    // either the writer sees the new event, or the appender sees the writer asleep and wakes it.
    private bool WaitForEvents()
    {
        while (_queue.IsEmpty)
        {
            if (_closing)
            {
                return false;
            }

            Interlocked.Exchange(ref _writerAsleep, 1);
            if ((!_queue.IsEmpty || _closing) && Interlocked.Exchange(ref _writerAsleep, 0) == 1)
            {
                continue;
            }

            _wake.Wait();
        }

        return true;
    }

    private void WakeWriter()
    {
        if (Volatile.Read(ref _writerAsleep) == 1 && Interlocked.Exchange(ref _writerAsleep, 0) == 1)
        {
            _wake.Release();
        }
    }

    private static AuditUnavailableException ShutDown() => new("The audit log is shut down; the operation was not carried out.");

    private void WriteBatch(List<Pending> batch, List<AuditRecord> records)
    {
        // Not cancellable: once the transaction starts it either commits or rolls back whole. Waited for
        // here, on the writer's own thread: it holds no pool thread, and SQLite writes synchronously.
        var started = Stopwatch.GetTimestamp();
        var locked = started;
        var end = default(AuditChainEnd);
        AuditCheckpoint? checkpoint = null;
        _repository.AppendAsync(stored =>
        {
            locked = Stopwatch.GetTimestamp();
            end = stored;
            checkpoint = Chain(batch, records, stored);
            return new AuditChainedBatch(records, checkpoint);
        }, CancellationToken.None).GetAwaiter().GetResult();
        var done = Stopwatch.GetTimestamp();
        Interlocked.Add(ref _commitTicks, Stopwatch.GetElapsedTime(started, done).Ticks);
        Interlocked.Add(ref _lockTicks, Stopwatch.GetElapsedTime(started, locked).Ticks);
        Interlocked.Add(ref _batchedRecords, records.Count);
        Interlocked.Increment(ref _batches);
        _head = new HeadState(new AuditHead(records[^1].Sequence, records[^1].Hash));
        Interlocked.Exchange(ref _lastCheckpoint, checkpoint?.Sequence ?? end.LastCheckpoint);
    }

    // Runs inside the append's transaction, holding the chain's lock, so it must stay short: the other
    // nodes' writers wait for it. The bodies were encoded on the callers' threads; only the links, which
    // need the stored end, are made here.
    private AuditCheckpoint? Chain(List<Pending> batch, List<AuditRecord> records, AuditChainEnd stored)
    {
        // Other nodes only ever extend the chain, so it never ends before the record this node last
        // wrote, nor elsewhere at that record: if it does, records were removed or rewritten outside
        // Coffer, and appending would hide that.
        var mine = _head.Head;
        if (stored.Head.Sequence < mine.Sequence || (stored.Head.Sequence == mine.Sequence && !stored.Head.Hash.AsSpan().SequenceEqual(mine.Hash)))
        {
            throw new ConflictException(string.Create(CultureInfo.InvariantCulture,
                $"the stored audit chain ends at record {stored.Head.Sequence}, not after record {mine.Sequence} that this node wrote"));
        }

        records.Clear();
        var now = _time.GetUtcNow();
        var sequence = stored.Head.Sequence;
        var previous = stored.Head.Hash;
        foreach (var pending in batch)
        {
            var record = AuditRecord.CreatePrepared(pending.Normalized, _node, pending.Body, ++sequence, now, previous);
            records.Add(record);
            previous = record.Hash;
        }

        lock (_keyLock)
        {
            return _checkpointKey is null ? null : AuditCheckpointMac.Create(_checkpointKey, sequence, previous, now);
        }
    }

    private static void Zero(byte[]? key)
    {
        if (key is not null)
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private sealed class Pending
    {
        public Pending(AuditEvent auditEvent, string node, bool answersOnly)
        {
            // Normalised and encoded on the caller's thread: the single writer, which every caller
            // waits for, only numbers, hashes and inserts.
            Normalized = AuditCanonical.Normalize(auditEvent);
            Body = AuditCanonical.EncodeBody(Normalized, node);
            Done = new(answersOnly ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);
        }

        public AuditEvent Normalized { get; }

        public byte[] Body { get; }

        // Only callers that just answer resume inline on the writer (AppendThenAnswerAsync); the
        // others must not hold up the next batch.
        public TaskCompletionSource Done { get; }
    }

    // A reference, so readers on other threads see sequence and hash of the same head together.
    private sealed class HeadState(AuditHead head)
    {
        public AuditHead Head { get; } = head;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4000, Level = LogLevel.Error, Message = "The audit log could not write a batch of {Count} records after record {Head} ({ExceptionType}); their operations fail (fail closed)")]
        public static partial void BatchFailed(ILogger logger, int count, long head, string exceptionType, Exception exception);

        [LoggerMessage(EventId = 4004, Level = LogLevel.Critical, Message = "The audit writer stopped on an unexpected exception; nothing more is recorded, so every audited call fails until Coffer restarts")]
        public static partial void WriterStopped(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 4003, Level = LogLevel.Critical, Message = "The audit chain in the database no longer ends at record {Head}, where this node left it: it was changed outside Coffer. Nothing more is recorded (so nothing is served) until this is resolved; run 'coffer audit verify'")]
        public static partial void ChainMoved(ILogger logger, long head);
    }
}
