using System.Diagnostics;
using System.Security.Cryptography;
using System.Threading.Channels;
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
/// Group commit: callers queue events; one writer loop takes everything queued, gives each event its
/// sequence number, time and hash, and writes the batch with one checkpoint (a MAC over the new head)
/// in one transaction — one fsync for the whole batch — then completes every caller of that batch.
/// </para>
/// <para>
/// Failure: a batch that cannot be written fails all its callers with
/// <see cref="AuditUnavailableException"/>; the transaction rolled back and the in-memory head did not
/// move, so the next batch simply retries from the same head and service resumes by itself once the
/// store is writable again.
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

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IAuditRepository _repository;
    private readonly string _node;
    private readonly TimeProvider _time;
    private readonly ILogger<AuditLog> _logger;
    private readonly Lock _keyLock = new();
    private readonly Task _loop;
    private byte[]? _checkpointKey;
    private volatile HeadState _head;
    private long _lastCheckpoint;
    private long _batches;
    private long _batchedRecords;
    private long _commitTicks;

    private AuditLog(IAuditRepository repository, string node, TimeProvider time, ILogger<AuditLog> logger, AuditHead head, long lastCheckpoint, bool enabled)
    {
        _lastCheckpoint = lastCheckpoint;
        _repository = repository;
        _node = node;
        _time = time;
        _logger = logger;
        _head = new HeadState(head);
        Enabled = enabled;
        _loop = enabled ? Task.Run(RunAsync) : Task.CompletedTask;
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
    /// ratios are the mean group-commit size and the mean commit time, which bound audited throughput.</summary>
    public (long Batches, long Records, TimeSpan CommitTime) BatchTotals =>
        (Interlocked.Read(ref _batches), Interlocked.Read(ref _batchedRecords), TimeSpan.FromTicks(Interlocked.Read(ref _commitTicks)));

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
    /// (the XKS hot path): its continuation runs on the thread that completes the batch, one after
    /// another, instead of each taking its own hop through the thread pool.
    /// </summary>
    /// <remarks>Only for code that neither blocks nor waits on I/O after the await — every caller of the
    /// same batch waits behind it. Management changes (database, HSM) use <see cref="AppendAsync"/>.</remarks>
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

        var pending = new Pending(auditEvent, answersOnly);
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new AuditUnavailableException("The audit log is shut down; the operation was not carried out.");
        }

        return new ValueTask(ct.CanBeCanceled ? pending.Done.Task.WaitAsync(ct) : pending.Done.Task);
    }

    /// <summary>Gives the writer the checkpoint key of this master key (at unseal).</summary>
    public void SetCheckpointKey(MasterKey master)
    {
        ArgumentNullException.ThrowIfNull(master);
        var key = master.DeriveMacKey(MacPurpose.AuditCheckpoint);
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
        _queue.Writer.TryComplete();
        await _loop;
        ClearCheckpointKey();
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Pending>(64);
        var records = new List<AuditRecord>(64);
        while (await reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            try
            {
                await WriteBatchAsync(batch, records);
                Complete(batch, failure: null);
            }
            catch (Exception e)
            {
                if (e is ConflictException)
                {
                    // The stored chain no longer ends where this node left it: records were removed or
                    // rewritten outside Coffer (or another writer shares the database). Appending
                    // would hide that, so every batch fails until an operator looks (verify says where).
                    Log.ChainMoved(_logger, _head.Head.Sequence);
                }

                Log.BatchFailed(_logger, batch.Count, _head.Head.Sequence, e.GetType().Name, e);
                Complete(batch, new AuditUnavailableException(e));
            }

            batch.Clear();
            records.Clear();
        }
    }

    // One hand-off for the whole batch: its callers resume on another thread while this one writes the
    // next batch (a hop per caller cost more CPU than inserting its record).
    private static void Complete(List<Pending> batch, AuditUnavailableException? failure) =>
        ThreadPool.UnsafeQueueUserWorkItem(static state =>
        {
            var (done, failure) = state;
            foreach (var pending in done)
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
        }, (batch.ToArray(), failure), preferLocal: false);

    private async Task WriteBatchAsync(List<Pending> batch, List<AuditRecord> records)
    {
        var now = _time.GetUtcNow();
        var head = _head.Head;
        var sequence = head.Sequence;
        var previous = head.Hash;
        foreach (var pending in batch)
        {
            var record = AuditRecord.CreateNormalized(pending.Normalized, ++sequence, now, _node, previous);
            records.Add(record);
            previous = record.Hash;
        }

        AuditCheckpoint? checkpoint = null;
        lock (_keyLock)
        {
            if (_checkpointKey is not null)
            {
                checkpoint = AuditCheckpointMac.Create(_checkpointKey, sequence, previous, now);
            }
        }

        // Not cancellable: once the transaction starts it either commits or rolls back whole.
        var started = Stopwatch.GetTimestamp();
        await _repository.AppendAsync(records, checkpoint, CancellationToken.None);
        Interlocked.Add(ref _commitTicks, Stopwatch.GetElapsedTime(started).Ticks);
        Interlocked.Add(ref _batchedRecords, records.Count);
        Interlocked.Increment(ref _batches);
        _head = new HeadState(new AuditHead(sequence, previous));
        if (checkpoint is not null)
        {
            Interlocked.Exchange(ref _lastCheckpoint, sequence);
        }
    }

    private static void Zero(byte[]? key)
    {
        if (key is not null)
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private sealed class Pending(AuditEvent auditEvent, bool answersOnly)
    {
        // Normalised on the caller's thread: the single writer, which every caller waits for, only
        // numbers, hashes and inserts.
        public AuditEvent Normalized { get; } = AuditCanonical.Normalize(auditEvent);

        // Completed off the writer loop, so no caller delays the next batch; only callers that just
        // answer resume inline on the completing thread (AppendThenAnswerAsync).
        public TaskCompletionSource Done { get; } = new(answersOnly ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);
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

        [LoggerMessage(EventId = 4003, Level = LogLevel.Critical, Message = "The audit chain in the database no longer ends at record {Head}, where this node left it: it was changed outside Coffer. Nothing more is recorded (so nothing is served) until this is resolved; run 'coffer audit verify'")]
        public static partial void ChainMoved(ILogger logger, long head);
    }
}
