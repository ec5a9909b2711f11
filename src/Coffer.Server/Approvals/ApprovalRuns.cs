namespace Coffer.Server.Approvals;

/// <summary>
/// The approved requests this node is running now. An approved request that is not among them was
/// left approved by a node that stopped, or by a run that failed part-way; the lifecycle scheduler
/// marks it interrupted (<see cref="ApprovalInterruptions"/>). Thread-safe.
/// </summary>
internal sealed class ApprovalRuns
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _running = new(StringComparer.Ordinal);

    /// <summary>
    /// Claims <paramref name="approvalId"/> for a run of this node until the result is disposed. Claimed
    /// before the request moves to approved, so no sweep ever sees it approved and unclaimed while it runs.
    /// </summary>
    public IDisposable Claim(string approvalId)
    {
        lock (_lock)
        {
            // Counted: two final votes at once both claim, and the loser's release must not end the winner's claim.
            _running[approvalId] = _running.GetValueOrDefault(approvalId) + 1;
        }

        return new Release(this, approvalId);
    }

    public bool IsRunning(string approvalId)
    {
        lock (_lock)
        {
            return _running.ContainsKey(approvalId);
        }
    }

    private void Unclaim(string approvalId)
    {
        lock (_lock)
        {
            if (_running[approvalId] == 1)
            {
                _running.Remove(approvalId);
            }
            else
            {
                _running[approvalId]--;
            }
        }
    }

    private sealed class Release(ApprovalRuns runs, string approvalId) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                runs.Unclaim(approvalId);
            }
        }
    }
}
