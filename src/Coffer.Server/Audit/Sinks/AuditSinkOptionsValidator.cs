using Coffer.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Coffer.Server.Audit.Sinks;

/// <summary>The enabled audit sinks (docs/audit.md, "Audit sinks"); a sink that is off is not checked.</summary>
internal sealed class AuditSinkOptionsValidator : IValidateOptions<CofferOptions>
{
    public ValidateOptionsResult Validate(string? name, CofferOptions options)
    {
        var problems = new OptionsProblems();
        var syslog = options.Audit.Syslog;
        if (syslog.Enabled)
        {
            Common(problems, "Audit:Syslog", syslog);
            problems.Require(!string.IsNullOrWhiteSpace(syslog.Host), "Audit:Syslog:Host is required: the syslog receiver's name or address.");
            problems.Require(syslog.Port is >= 1 and <= 65535, $"Audit:Syslog:Port must be between 1 and 65535, not {syslog.Port}.");
            problems.Require(SyslogFormat.TryParseFacility(syslog.Facility, out _),
                $"Audit:Syslog:Facility '{syslog.Facility}' is not a syslog facility (kern, user, ..., authpriv, ..., local0..local7, or 0..23).");
            problems.Require(syslog.ClientCertificatePath is null || syslog.Tls, "Audit:Syslog:ClientCertificatePath needs Audit:Syslog:Tls.");
            problems.Require(syslog.TimeoutSeconds is >= 1 and <= 600, $"Audit:Syslog:TimeoutSeconds must be 1..600, not {syslog.TimeoutSeconds}.");
        }

        var file = options.Audit.File;
        if (file.Enabled)
        {
            Common(problems, "Audit:File", file);
            problems.Require(file.MaxFileBytes >= 1024, $"Audit:File:MaxFileBytes must be at least 1024, not {file.MaxFileBytes}.");
            problems.Require(file.KeepFiles is >= 1 and <= 1000, $"Audit:File:KeepFiles must be 1..1000, not {file.KeepFiles}.");
        }

        return problems.Result;
    }

    private static void Common(OptionsProblems problems, string path, AuditSinkOptions sink)
    {
        problems.Require(sink.BatchSize is >= 1 and <= 10_000, $"{path}:BatchSize must be 1..10000, not {sink.BatchSize}.");
        problems.Require(sink.PollMilliseconds is >= 10 and <= 60_000, $"{path}:PollMilliseconds must be 10..60000, not {sink.PollMilliseconds}.");
        problems.Require(sink.MaxRetryDelaySeconds is >= 1 and <= 3600, $"{path}:MaxRetryDelaySeconds must be 1..3600, not {sink.MaxRetryDelaySeconds}.");
    }
}
