namespace Coffer.Server.Hosting;

/// <summary>
/// How webhook alerts are dispatched and delivered (docs/alerts.md). Endpoints themselves are managed
/// through the API (<c>coffer alert webhook add</c>); these are the delivery knobs.
/// </summary>
public sealed class AlertOptions
{
    /// <summary>Lead times before a key version's expiry at which a <c>key.version.expiry-warning</c>
    /// event is sent, once each (the shortest one reached).</summary>
    public int[] ExpiryWarningDays { get; set; } = [30, 7, 1];

    /// <summary>How often the dispatcher looks for new audit records, and an idle deliverer for due retries.</summary>
    public int PollMilliseconds { get; set; } = 500;

    /// <summary>Most audit records read (and enqueued) at once.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>How long one HTTP attempt may take, connecting included.</summary>
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>Retries inside one delivery round (Polly, exponential backoff with jitter) before the
    /// delivery waits in the outbox for its next round.</summary>
    public int InProcessRetries { get; set; } = 2;

    /// <summary>The first retry delay; it doubles per attempt (with jitter), in process and in the outbox.</summary>
    public int FirstRetryDelayMilliseconds { get; set; } = 1000;

    /// <summary>The longest wait between two attempts.</summary>
    public int MaxRetryDelaySeconds { get; set; } = 3600;

    /// <summary>Attempts after which a delivery is given up (failed).</summary>
    public int MaxAttempts { get; set; } = 15;

    /// <summary>Age after which a delivery that never got through is given up (failed).</summary>
    public int MaxAgeHours { get; set; } = 72;

    internal TimeSpan FirstRetryDelay => TimeSpan.FromMilliseconds(FirstRetryDelayMilliseconds);

    internal TimeSpan MaxRetryDelay => TimeSpan.FromSeconds(MaxRetryDelaySeconds);
}
