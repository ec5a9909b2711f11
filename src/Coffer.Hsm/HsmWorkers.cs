using System.Collections.Concurrent;
using System.Diagnostics;
using Coffer.Crypto;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Coffer.Hsm;

/// <summary>
/// Dedicated threads that make the blocking PKCS#11 calls of the XKS hot path, one per pooled
/// session, fed by one queue (docs/pkcs11.md, "Sessions").
/// </summary>
/// <remarks>
/// <para>Why not the thread pool: a PKCS#11 call blocks its thread for the whole device round trip
/// (tens of microseconds for SoftHSM2, milliseconds for a network HSM). Made on thread-pool workers,
/// those calls starve Kestrel of the threads that parse and answer requests, and every contended
/// call costs a sleep and a wake-up. Here request threads only enqueue and await; the HSM threads
/// stay busy while work is queued and never run request code (continuations run asynchronously).</para>
/// <para>A queued call that waits longer than the timeout fails with <see cref="CryptoBackendBusyException"/>
/// instead of queueing without bound.</para>
/// </remarks>
internal sealed class HsmWorkers : IDisposable
{
    private readonly BlockingCollection<WorkItem> _queue = [];
    private readonly Thread[] _threads;
    private readonly Pkcs11Token _token;
    private readonly TimeSpan _timeout;

    /// <param name="token">Whose pooled sessions the threads use.</param>
    /// <param name="count">Threads, at most the session pool's size (more could only wait for a session).</param>
    /// <param name="timeout">How long a call may wait, in the queue and for a session together.</param>
    public HsmWorkers(Pkcs11Token token, int count, TimeSpan timeout)
    {
        _token = token;
        _timeout = timeout;
        _threads = new Thread[count];
        for (var i = 0; i < count; i++)
        {
            _threads[i] = new Thread(Work) { IsBackground = true, Name = $"coffer-hsm-{i}" };
            _threads[i].Start();
        }
    }

    public Task<T> RunAsync<T>(Func<ISession, T> operation, CancellationToken ct)
    {
        var item = new WorkItem<T>(operation, ct);
        try
        {
            _queue.Add(item, CancellationToken.None);
        }
        catch (InvalidOperationException)
        {
            throw new ObjectDisposedException(nameof(HsmWorkers));
        }

        return item.Completion.Task;
    }

    public void Dispose()
    {
        _queue.CompleteAdding();
        foreach (var thread in _threads)
        {
            thread.Join(TimeSpan.FromSeconds(5));
        }

        _queue.Dispose();
    }

    private void Work()
    {
        foreach (var item in _queue.GetConsumingEnumerable())
        {
            if (item.Cancellation.IsCancellationRequested)
            {
                item.Cancel();
                continue;
            }

            var left = _timeout - Stopwatch.GetElapsedTime(item.Queued);
            if (left <= TimeSpan.Zero)
            {
                item.Fail(new CryptoBackendBusyException($"An HSM call waited {_timeout.TotalMilliseconds:F0} ms in the queue; every session stayed busy."));
                continue;
            }

            item.Execute(_token, left);
        }
    }

    private abstract class WorkItem(CancellationToken ct)
    {
        public CancellationToken Cancellation { get; } = ct;

        public long Queued { get; } = Stopwatch.GetTimestamp();

        public abstract void Execute(Pkcs11Token token, TimeSpan sessionWait);

        public abstract void Fail(Exception e);

        public abstract void Cancel();
    }

    private sealed class WorkItem<T>(Func<ISession, T> operation, CancellationToken ct) : WorkItem(ct)
    {
        // Continuations run on the thread pool, never on the HSM thread.
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Execute(Pkcs11Token token, TimeSpan sessionWait)
        {
            try
            {
                Completion.TrySetResult(token.Run(operation, sessionWait));
            }
#pragma warning disable CA1031 // every failure belongs to the caller, and the HSM thread must live on
            catch (Exception e)
#pragma warning restore CA1031
            {
                Completion.TrySetException(e);
            }
        }

        public override void Fail(Exception e) => Completion.TrySetException(e);

        public override void Cancel() => Completion.TrySetCanceled(Cancellation);
    }
}
