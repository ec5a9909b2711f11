using Coffer.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Coffer.Server.Alerts;

/// <summary>How webhook alerts are delivered (<see cref="AlertOptions"/>).</summary>
internal sealed class AlertOptionsValidator : IValidateOptions<CofferOptions>
{
    public ValidateOptionsResult Validate(string? name, CofferOptions options)
    {
        var alerts = options.Alerts;
        var problems = new OptionsProblems();
        problems.Require(alerts.PollMilliseconds is >= 10 and <= 60_000, $"Alerts:PollMilliseconds must be 10..60000, not {alerts.PollMilliseconds}.");
        problems.Require(alerts.BatchSize is >= 1 and <= 10_000, $"Alerts:BatchSize must be 1..10000, not {alerts.BatchSize}.");
        problems.Require(alerts.TimeoutSeconds is >= 1 and <= 300, $"Alerts:TimeoutSeconds must be 1..300, not {alerts.TimeoutSeconds}.");
        problems.Require(alerts.InProcessRetries is >= 0 and <= 10, $"Alerts:InProcessRetries must be 0..10, not {alerts.InProcessRetries}.");
        problems.Require(alerts.FirstRetryDelayMilliseconds is >= 1 and <= 3_600_000,
            $"Alerts:FirstRetryDelayMilliseconds must be 1..3600000, not {alerts.FirstRetryDelayMilliseconds}.");
        problems.Require(alerts.MaxRetryDelaySeconds is >= 1 and <= 86_400, $"Alerts:MaxRetryDelaySeconds must be 1..86400, not {alerts.MaxRetryDelaySeconds}.");
        problems.Require(alerts.MaxAttempts is >= 1 and <= 1000, $"Alerts:MaxAttempts must be 1..1000, not {alerts.MaxAttempts}.");
        problems.Require(alerts.MaxAgeHours is >= 1 and <= 24 * 30, $"Alerts:MaxAgeHours must be 1..720, not {alerts.MaxAgeHours}.");
        return problems.Result;
    }
}
