namespace Coffer.Server.Cluster;

/// <summary>
/// Whether this node leads the cluster, and the one way scheduled work runs only on the leader
/// (docs/cluster.md): every periodic service runs its loop through <see cref="RunWhileLeaderAsync"/>.
/// </summary>
/// <remarks>
/// A term begins when <see cref="ClusterMembership"/> takes the lease and lasts until it is lost, given
/// up, or not renewed before its deadline on this node's monotonic clock (the timer of the term's
/// <see cref="CancellationTokenSource"/>): a leader cut off from the database stops by itself, before its
/// lease can expire on the database's clock and another node begins a term.
/// </remarks>
internal sealed class Leadership : IDisposable
{
    private readonly Lock _lock = new();
    private CancellationTokenSource? _term;
    private TaskCompletionSource<CancellationToken> _next = NewWaiter();

    public bool IsLeader
    {
        get
        {
            lock (_lock)
            {
                return _term is { IsCancellationRequested: false };
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> once per term of this node, with a token cancelled when the term ends
    /// (or <paramref name="stopping"/> is cancelled), and waits for the next term in between. Work begun
    /// in a new term starts afresh: whatever it remembers from an earlier term, another leader may have
    /// changed since.
    /// </summary>
    /// <returns>When <paramref name="stopping"/> is cancelled and the work has returned.</returns>
    public async Task RunWhileLeaderAsync(Func<CancellationToken, Task> work, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            CancellationToken term;
            try
            {
                term = await NextTermAsync(stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            using var during = CancellationTokenSource.CreateLinkedTokenSource(stopping, term);
            try
            {
                await work(during.Token);

                // Work that returned by itself does not run again until the next term.
                await Task.Delay(Timeout.Infinite, during.Token);
            }
            catch (OperationCanceledException) when (during.IsCancellationRequested)
            {
            }
        }
    }

    /// <summary>Begins a term valid for <paramref name="validFor"/>, or extends the current one to that.</summary>
    /// <returns>True when a new term began.</returns>
    internal bool Hold(TimeSpan validFor)
    {
        lock (_lock)
        {
            if (_term is { IsCancellationRequested: false } current)
            {
                current.CancelAfter(validFor);
                return false;
            }

            _term?.Dispose();
            _term = new CancellationTokenSource(validFor);
            if (_next.Task.IsCompleted)
            {
                _next = NewWaiter();
            }

            _next.SetResult(_term.Token);
            return true;
        }
    }

    /// <summary>Ends the current term at once (the lease was lost or given up).</summary>
    internal void End()
    {
        CancellationTokenSource? term;
        lock (_lock)
        {
            term = _term;
        }

        // Outside the lock: cancelling runs the work's continuations, which may ask for the next term.
        // Only the membership loop calls Hold and End, so the term is not disposed meanwhile.
        term?.Cancel();
    }

    public void Dispose()
    {
        End();
        lock (_lock)
        {
            _term?.Dispose();
            _term = null;
        }
    }

    private Task<CancellationToken> NextTermAsync(CancellationToken ct)
    {
        lock (_lock)
        {
            if (_term is { IsCancellationRequested: false } current)
            {
                return Task.FromResult(current.Token);
            }

            if (_next.Task.IsCompleted)
            {
                _next = NewWaiter();
            }

            return _next.Task.WaitAsync(ct);
        }
    }

    private static TaskCompletionSource<CancellationToken> NewWaiter() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
