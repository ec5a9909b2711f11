using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Coffer.Alerts;
using Coffer.Crypto;
using Coffer.Server.Audit;
using Coffer.Server.Hosting;
using Coffer.Server.Seal;
using Coffer.Storage;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Coffer.Server.Alerts;

/// <summary>
/// Sends the outbox's due deliveries (docs/alerts.md): a signed POST per delivery, retried in process
/// with exponential backoff and jitter (Polly), every attempt recorded in the outbox with the time of
/// the next one, so retries carry on after a restart. 2xx is delivered; after
/// <see cref="AlertOptions.MaxAttempts"/> attempts or <see cref="AlertOptions.MaxAgeHours"/> the
/// delivery is failed.
/// </summary>
/// <remarks>
/// Endpoints are served side by side, each one's deliveries in order. An endpoint whose delivery fails
/// a whole round is left alone until that delivery's next attempt, so one dead receiver neither holds
/// up the others nor is hammered with its backlog.
/// </remarks>
internal sealed partial class WebhookDeliverer : IDisposable
{
    private const int DueBatch = 500;

    private readonly IAlertRepository _alerts;
    private readonly SealManager _seal;
    private readonly AlertOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly ResiliencePipeline<AttemptOutcome> _pipeline;
    private readonly Dictionary<string, DateTimeOffset> _resting = new(StringComparer.Ordinal);

    public WebhookDeliverer(SealManager seal, AlertOptions options, TimeProvider time, ILogger logger)
    {
        _alerts = seal.Storage.Alerts;
        _seal = seal;
        _options = options;
        _time = time;
        _logger = logger;
        // No redirects: a 3xx is a failed attempt, never a signed event resent somewhere else.
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(options.TimeoutSeconds),
        })
        {
            Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds),
        };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("Coffer-Webhooks", "1"));
        _pipeline = new ResiliencePipelineBuilder<AttemptOutcome> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<AttemptOutcome>
            {
                MaxRetryAttempts = Math.Max(1, options.InProcessRetries),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.FirstRetryDelay,
                MaxDelay = options.MaxRetryDelay,
                // Only a failure that may still succeed is retried here; a given-up one is final.
                ShouldHandle = args => ValueTask.FromResult(
                    options.InProcessRetries > 0 && args.Outcome.Result is { Delivered: false, GaveUp: false }),
            })
            .Build();
    }

    public Task RunAsync(SemaphoreSlim wake, CancellationToken ct) => CursorLoop.RunAsync(
        DeliverDueAsync,
        () => TimeSpan.FromMilliseconds(_options.PollMilliseconds),
        TimeSpan.FromMilliseconds(250),
        TimeSpan.FromSeconds(30),
        (failures, delay, e) => Log.RoundFailed(_logger, failures, delay.TotalSeconds, e.GetType().Name),
        _ => { },
        _time,
        ct,
        wake);

    /// <returns>False when nothing was due (or only deliveries of resting endpoints).</returns>
    internal async Task<bool> DeliverDueAsync(CancellationToken ct)
    {
        if (_seal.IsSealed)
        {
            // Secrets open only with the master key; deliveries wait in the outbox until unseal.
            return false;
        }

        var now = _time.GetUtcNow();
        foreach (var (id, until) in _resting.ToArray())
        {
            if (until <= now)
            {
                _resting.Remove(id);
            }
        }

        var due = await _alerts.ListDueAsync(now, DueBatch, _resting.Keys, ct);
        if (due.Count == 0)
        {
            return false;
        }

        var webhooks = (await _alerts.ListWebhooksAsync(ct)).ToDictionary(w => w.Id, StringComparer.Ordinal);
        var rounds = due.GroupBy(d => d.WebhookId, StringComparer.Ordinal)
            .Select(group => DeliverToAsync(webhooks.GetValueOrDefault(group.Key), group.Key, [.. group], ct));
        var rests = await Task.WhenAll(rounds);
        foreach (var (id, until) in rests.OfType<(string, DateTimeOffset)>())
        {
            _resting[id] = until;
        }

        return true;
    }

    /// <returns>Set when the endpoint should rest: its id and when to try it again.</returns>
    private async Task<(string, DateTimeOffset)?> DeliverToAsync(Webhook? webhook, string webhookId, List<AlertDelivery> deliveries, CancellationToken ct)
    {
        if (webhook is null)
        {
            // Removed meanwhile: its pending deliveries were failed with it; these raced the removal.
            foreach (var d in deliveries)
            {
                await _alerts.RecordAttemptAsync(new AlertAttempt(d.WebhookId, d.AuditSequence, AlertDeliveryState.Failed, _time.GetUtcNow(), null, "webhook removed", null), ct);
            }

            return null;
        }

        var secret = await _seal.OpenSecretAsync(SealPurpose.WebhookSecret, webhook.Id, webhook.SealedSecret, ct);
        try
        {
            foreach (var delivery in deliveries)
            {
                var attempts = delivery.Attempts;
                var context = ResilienceContextPool.Shared.Get(ct);
                try
                {
                    var outcome = await _pipeline.ExecuteAsync(
                        async (ctx, _) => await AttemptAsync(webhook, secret, delivery, ++attempts, ctx.CancellationToken), context, 0);
                    if (!outcome.Delivered && !outcome.GaveUp)
                    {
                        return (webhookId, outcome.NextAttemptAt ?? _time.GetUtcNow());
                    }
                }
                finally
                {
                    ResilienceContextPool.Shared.Return(context);
                }
            }

            return null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>One signed POST, its outcome stored before the next attempt can start.</summary>
    private async ValueTask<AttemptOutcome> AttemptAsync(Webhook webhook, byte[] secret, AlertDelivery delivery, int attempt, CancellationToken ct)
    {
        var body = Encoding.UTF8.GetBytes(delivery.Payload);
        var at = _time.GetUtcNow();
        int? status = null;
        string? error;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            request.Headers.Add(WebhookSignature.Header, WebhookSignature.Create(secret, at, body));
            request.Headers.Add(WebhookSignature.EventIdHeader, delivery.EventId);
            request.Headers.Add(WebhookSignature.EventTypeHeader, delivery.EventType);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            status = (int)response.StatusCode;
            error = response.IsSuccessStatusCode ? null : "HTTP " + status.Value.ToString(CultureInfo.InvariantCulture);
        }
        catch (HttpRequestException e)
        {
            // The transport's own words (refused, DNS, TLS) name the host at most, never the secret or body.
            error = e.HttpRequestError.ToString() + ": " + e.Message;
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            error = $"no answer within {_options.TimeoutSeconds} s";
        }

        var done = _time.GetUtcNow();
        if (error is null)
        {
            await _alerts.RecordAttemptAsync(new AlertAttempt(delivery.WebhookId, delivery.AuditSequence, AlertDeliveryState.Delivered, done, status, null, null), CancellationToken.None);
            Log.Delivered(_logger, delivery.EventId, webhook.Id, attempt);
            return new AttemptOutcome(true, false, null);
        }

        var gaveUp = attempt >= _options.MaxAttempts || done - delivery.CreatedAt >= TimeSpan.FromHours(_options.MaxAgeHours);
        var next = gaveUp ? (DateTimeOffset?)null : done + NextDelay(attempt);
        await _alerts.RecordAttemptAsync(new AlertAttempt(delivery.WebhookId, delivery.AuditSequence,
            gaveUp ? AlertDeliveryState.Failed : AlertDeliveryState.Pending, done, status, error, next), CancellationToken.None);
        if (gaveUp)
        {
            Log.GaveUp(_logger, delivery.EventId, webhook.Id, WebhookUrl.Redacted(webhook.Url), attempt, error);
        }
        else
        {
            Log.AttemptFailed(_logger, delivery.EventId, webhook.Id, WebhookUrl.Redacted(webhook.Url), attempt, error);
        }

        return new AttemptOutcome(false, gaveUp, next);
    }

    /// <summary>The outbox's wait after the n-th failed attempt: doubling from the first retry delay,
    /// capped, with ±20 % jitter so many deliveries that failed together do not return together.</summary>
    private TimeSpan NextDelay(int attempt)
    {
        var delay = Hosting.BackoffRetry.Backoff(attempt, _options.FirstRetryDelay, _options.MaxRetryDelay);
        return delay * (0.8 + (0.4 * Random.Shared.NextDouble()));
    }

    public void Dispose() => _http.Dispose();

    /// <param name="GaveUp">The delivery is failed for good.</param>
    /// <param name="NextAttemptAt">When the outbox tries it again (while pending).</param>
    private sealed record AttemptOutcome(bool Delivered, bool GaveUp, DateTimeOffset? NextAttemptAt);

    private static partial class Log
    {
        [LoggerMessage(EventId = 5110, Level = LogLevel.Debug, Message = "Alert {EventId} delivered to webhook {WebhookId} (attempt {Attempt})")]
        public static partial void Delivered(ILogger logger, string eventId, string webhookId, int attempt);

        [LoggerMessage(EventId = 5111, Level = LogLevel.Warning, Message = "Alert {EventId} to webhook {WebhookId} ({Target}) failed attempt {Attempt}: {Error}; it will be retried")]
        public static partial void AttemptFailed(ILogger logger, string eventId, string webhookId, string target, int attempt, string error);

        [LoggerMessage(EventId = 5112, Level = LogLevel.Error, Message = "Alert {EventId} to webhook {WebhookId} ({Target}) given up after {Attempt} attempt(s): {Error}")]
        public static partial void GaveUp(ILogger logger, string eventId, string webhookId, string target, int attempt, string error);

        [LoggerMessage(EventId = 5113, Level = LogLevel.Warning, Message = "Alert delivery round failed {Failures} time(s) in a row ({ExceptionType}), retrying in {DelaySeconds} s; deliveries wait in the outbox")]
        public static partial void RoundFailed(ILogger logger, int failures, double delaySeconds, string exceptionType);
    }
}
