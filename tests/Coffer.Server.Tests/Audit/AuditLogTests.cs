using Coffer.Audit;
using Coffer.Crypto;
using Coffer.Server.Audit;
using Coffer.Server.Seal;
using Coffer.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Coffer.Server.Tests.Audit;

/// <summary>The writer's contract: group commit, durable-or-failed, retry from an unchanged head,
/// checkpoints only with the key. Against an in-memory store whose writes the tests hold and fail.</summary>
public sealed class AuditLogTests
{
    [Fact]
    public async Task Appends_queued_while_a_batch_is_written_go_into_the_next_batch_together()
    {
        var store = new FakeAuditStore();
        await using var log = await AuditLog.StartAsync(store, "node", TimeProvider.System, NullLogger<AuditLog>.Instance);
        store.Hold();

        var first = log.AppendAsync(Event("first")).AsTask();
        await store.WaitForWriterAsync();
        var rest = Enumerable.Range(0, 99).Select(i => log.AppendAsync(Event("e" + i)).AsTask()).ToList();
        Assert.All(rest, t => Assert.False(t.IsCompleted));
        store.Release();
        await first;
        await Task.WhenAll(rest);

        Assert.Equal([1, 99], store.BatchSizes);
        Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), store.Records.Select(r => r.Sequence));
        Assert.Equal(new AuditHead(100, store.Records[^1].Hash), log.Head);
        using var verifier = new AuditChainVerifier(new byte[32]);
        Assert.True(verifier.Add(store.Records, []));
    }

    [Fact]
    public async Task A_failed_batch_fails_its_callers_and_the_next_one_retries_from_the_same_head()
    {
        var store = new FakeAuditStore();
        await using var log = await AuditLog.StartAsync(store, "node", TimeProvider.System, NullLogger<AuditLog>.Instance);
        await log.AppendAsync(Event("before"));
        store.FailNext = true;

        await Assert.ThrowsAsync<AuditUnavailableException>(() => log.AppendAsync(Event("lost")).AsTask());
        Assert.Equal(1, log.Head.Sequence);
        await log.AppendAsync(Event("after"));

        Assert.Equal(["before", "after"], store.Records.Select(r => r.Event.Action));
        Assert.Equal(store.Records[0].Hash, store.Records[1].PrevHash);
        Assert.Equal(2, store.Records[1].Sequence);
    }

    [Fact]
    public async Task Batches_carry_a_valid_checkpoint_only_while_the_key_is_held()
    {
        var store = new FakeAuditStore();
        await using var log = await AuditLog.StartAsync(store, "node", TimeProvider.System, NullLogger<AuditLog>.Instance);
        using var master = MasterKey.Generate();
        var key = master.DeriveMacKey(MacPurpose.AuditCheckpoint);

        await log.AppendAsync(Event("sealed"));
        log.SetCheckpointKey(master);
        await log.AppendAsync(Event("unsealed"));
        log.ClearCheckpointKey();
        await log.AppendAsync(Event("sealed again"));

        var checkpoint = Assert.Single(store.Checkpoints);
        Assert.Equal(2, checkpoint.Sequence);
        Assert.Equal(store.Records[1].Hash, checkpoint.Hash);
        Assert.True(AuditCheckpointMac.IsValid(key, checkpoint));
        Assert.Equal(2, log.LastCheckpoint);
        Assert.Null(log.CopyCheckpointKey());
    }

    [Fact]
    public async Task Start_continues_the_stored_chain()
    {
        var store = new FakeAuditStore();
        await using (var first = await AuditLog.StartAsync(store, "node", TimeProvider.System, NullLogger<AuditLog>.Instance))
        {
            await first.AppendAsync(Event("a"));
        }

        await using var second = await AuditLog.StartAsync(store, "node", TimeProvider.System, NullLogger<AuditLog>.Instance);
        await second.AppendAsync(Event("b"));

        Assert.Equal([1L, 2], store.Records.Select(r => r.Sequence));
        Assert.Equal(store.Records[0].Hash, store.Records[1].PrevHash);
    }

    [Fact]
    public async Task Dispose_writes_what_is_queued()
    {
        var store = new FakeAuditStore();
        var log = await AuditLog.StartAsync(store, "node", TimeProvider.System, NullLogger<AuditLog>.Instance);
        store.Hold();
        var pending = log.AppendAsync(Event("last words")).AsTask();
        await store.WaitForWriterAsync();

        var disposing = log.DisposeAsync().AsTask();
        store.Release();
        await disposing;

        await pending;
        Assert.Single(store.Records);
        await Assert.ThrowsAsync<AuditUnavailableException>(() => log.AppendAsync(Event("too late")).AsTask());
    }

    [Fact]
    public async Task Xks_callers_resume_on_the_writer_thread_and_every_other_caller_on_the_thread_pool()
    {
        var store = new FakeAuditStore();
        await using var log = await AuditLog.StartAsync(store, "node", TimeProvider.System, NullLogger<AuditLog>.Instance);
        store.Hold();

        var xks = ResumedOn(log.AppendThenAnswerAsync(Event("xks")));
        var management = ResumedOn(log.AppendAsync(Event("management")));
        await store.WaitForWriterAsync();
        store.Release();

        // XKS answers are written by the writer (no pool hop); a management caller goes on to database
        // or HSM work, which must never hold up the next batch.
        Assert.Equal(("Coffer audit writer", false), await xks);
        var (name, onPool) = await management;
        Assert.NotEqual("Coffer audit writer", name);
        Assert.True(onPool);
    }

    [Fact]
    public async Task Appends_racing_from_many_threads_form_one_gapless_chain_and_none_waits_forever()
    {
        var store = new FakeAuditStore();
        await using var log = await AuditLog.StartAsync(store, "node", TimeProvider.System, NullLogger<AuditLog>.Instance);
        const int Threads = 8, Each = 2000;

        // One append after another per thread, so the writer keeps falling asleep and being woken: a
        // lost wake-up leaves an append waiting, and the timeout turns that into a failure.
        await Task.WhenAll(Enumerable.Range(0, Threads).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < Each; i++)
            {
                await log.AppendAsync(Event($"t{t}-{i}"));
            }
        }))).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(Enumerable.Range(1, Threads * Each).Select(i => (long)i), store.Records.Select(r => r.Sequence));
        Assert.Equal(Threads * Each, store.Records.Select(r => r.Event.Action).Distinct().Count());
        using var verifier = new AuditChainVerifier(new byte[32]);
        Assert.True(verifier.Add(store.Records, []));
    }

    [Fact]
    public async Task Appends_racing_with_dispose_are_either_written_and_acknowledged_or_refused_unwritten()
    {
        var store = new FakeAuditStore();
        var log = await AuditLog.StartAsync(store, "node", TimeProvider.System, NullLogger<AuditLog>.Instance);
        var acknowledged = 0;
        var refused = 0;
        var appenders = Enumerable.Range(0, 8).Select(t => Task.Run(async () =>
        {
            for (var i = 0; ; i++)
            {
                try
                {
                    await log.AppendAsync(Event($"t{t}-{i}"));
                    Interlocked.Increment(ref acknowledged);
                }
                catch (AuditUnavailableException)
                {
                    Interlocked.Increment(ref refused);
                    return;
                }
            }
        })).ToList();

        var deadline = DateTime.UtcNow.AddSeconds(30); // a stuck writer fails the test instead of hanging it
        while (Volatile.Read(ref acknowledged) < 1000)
        {
            Assert.True(DateTime.UtcNow < deadline, "appends stopped being acknowledged");
            await Task.Delay(1);
        }

        await log.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        await Task.WhenAll(appenders).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(8, refused);
        Assert.Equal(acknowledged, store.Records.Count);
    }

    [Fact]
    public async Task Unaudited_log_records_nothing()
    {
        var store = new FakeAuditStore();
        await using var log = await AuditLog.StartAsync(store, "node", TimeProvider.System, NullLogger<AuditLog>.Instance, enabled: false);

        await log.AppendAsync(Event("ignored"));

        Assert.False(log.Enabled);
        Assert.Empty(store.Records);
    }

    [Fact]
    public async Task Verify_needs_the_checkpoint_key()
    {
        var store = new FakeAuditStore();
        await using var log = await AuditLog.StartAsync(store, "node", TimeProvider.System, NullLogger<AuditLog>.Instance);

        await Assert.ThrowsAsync<SealedException>(() => log.VerifyAsync());
    }

    [Fact]
    public async Task Archive_while_sealed_is_refused_every_time_not_stuck_after_the_first()
    {
        var store = new FakeAuditStore();
        await using var log = await AuditLog.StartAsync(store, "node", TimeProvider.System, NullLogger<AuditLog>.Instance);

        await Assert.ThrowsAsync<SealedException>(() => log.ArchiveAsync(10, Path.GetTempPath(), long.MaxValue));
        // The second call must meet the same refusal, not wait forever for the first call's gate.
        await Assert.ThrowsAsync<SealedException>(() => log.ArchiveAsync(10, Path.GetTempPath(), long.MaxValue).WaitAsync(TimeSpan.FromSeconds(30)));
    }

    private static async Task<(string? Thread, bool OnPool)> ResumedOn(ValueTask append)
    {
        await append.ConfigureAwait(false); // resume where the log completes it, not on xUnit's context
        return (Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread);
    }

    private static AuditEvent Event(string action) => new() { Action = action, ActorKind = AuditActorKinds.System };

    private sealed class FakeAuditStore : IAuditRepository
    {
        private readonly Lock _lock = new();
        private TaskCompletionSource? _gate;
        private TaskCompletionSource _writerArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<AuditRecord> Records { get; } = [];

        public List<AuditCheckpoint> Checkpoints { get; } = [];

        public List<int> BatchSizes { get; } = [];

        public bool FailNext { get; set; }

        public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release()
        {
            var gate = _gate;
            _gate = null;
            gate?.SetResult();
        }

        public Task WaitForWriterAsync() => _writerArrived.Task;

        public async Task AppendAsync(Func<AuditChainEnd, AuditChainedBatch> chain, CancellationToken ct = default)
        {
            var gate = _gate;
            _writerArrived.TrySetResult();
            if (gate is not null)
            {
                await gate.Task;
            }

            lock (_lock)
            {
                if (FailNext)
                {
                    FailNext = false;
                    throw new InvalidOperationException("disk full");
                }

                var head = Records.Count == 0 ? AuditHead.Empty : new AuditHead(Records[^1].Sequence, Records[^1].Hash);
                var (records, checkpoint) = chain(new AuditChainEnd(head, Checkpoints.Count == 0 ? 0 : Checkpoints[^1].Sequence));
                if (!records[0].Follows(head))
                {
                    throw new ArgumentException("does not follow the head");
                }

                Records.AddRange(records);
                BatchSizes.Add(records.Count);
                if (checkpoint is not null)
                {
                    Checkpoints.Add(checkpoint);
                }
            }
        }

        public Task<long> GetLastCheckpointAsync(CancellationToken ct = default) =>
            Task.FromResult(Checkpoints.Count == 0 ? 0 : Checkpoints[^1].Sequence);

        public Task<AuditHead> GetHeadAsync(CancellationToken ct = default) =>
            Task.FromResult(Records.Count == 0 ? AuditHead.Empty : new AuditHead(Records[^1].Sequence, Records[^1].Hash));

        public Task<AuditChainPage> ReadChainAsync(long fromSequence, int limit, CancellationToken ct = default) =>
            Task.FromResult(new AuditChainPage([.. Records.Where(r => r.Sequence >= fromSequence).Take(limit)], [.. Checkpoints], true));

        public Task<AuditPage> QueryAsync(AuditQuery query, CancellationToken ct = default) => throw new NotSupportedException();

        public Task<AuditStoredPage> ReadStoredBatchesAsync(long fromSequence, int records, CancellationToken ct = default) => throw new NotSupportedException();

        public Task<AuditCheckpoint?> GetVerifiedCheckpointAsync(CancellationToken ct = default) => throw new NotSupportedException();

        public Task SaveVerifiedCheckpointAsync(AuditCheckpoint verified, CancellationToken ct = default) => throw new NotSupportedException();

        public Task<AuditCheckpoint?> GetCheckpointAtOrBeforeAsync(long sequence, CancellationToken ct = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<AuditArchive>> ListArchivesAsync(CancellationToken ct = default) => Task.FromResult<IReadOnlyList<AuditArchive>>([]);

        public Task AddArchiveAsync(AuditArchive archive, CancellationToken ct = default) => throw new NotSupportedException();

        public Task<int> PruneArchivedAsync(long throughSequence, int limit, CancellationToken ct = default) => throw new NotSupportedException();
    }
}
