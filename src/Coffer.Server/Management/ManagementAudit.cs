using System.Diagnostics;
using System.Globalization;
using Coffer.Audit;
using Coffer.Auth;
using Coffer.Crypto;
using Coffer.Server.Audit;
using Coffer.Server.Seal;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Management;

/// <summary>
/// The one place where management changes are audited (docs/design.md, "Audit"). Every
/// mutating endpoint names its action with <see cref="WithAuditAction"/>; the filter then writes, fail
/// closed:
/// <list type="number">
/// <item>a <c>requested</c> record — actor, source IP, the ids in the path — durably <em>before</em> the
/// endpoint runs; if it cannot be written the answer is 503 "Audit log unavailable" and nothing changes;</item>
/// <item>a record of the outcome — status, error, ids the call created — before the answer goes out;
/// if that cannot be written the answer is 503 too (the change was made; the first record shows it was
/// asked for).</item>
/// </list>
/// Request bodies are never recorded (they hold shares); answers contribute only the ids and counts
/// picked out below, never a secret, share or token.
/// </summary>
internal static partial class ManagementAudit
{
    /// <summary>Audits this endpoint as <paramref name="action"/>.</summary>
    /// <param name="runsWhenUnaudited">Run even when the request record cannot be written. Only for
    /// seal: cutting every key off must never wait for the audit store.</param>
    public static RouteHandlerBuilder WithAuditAction(this RouteHandlerBuilder builder, string action, bool runsWhenUnaudited = false) =>
        builder.WithMetadata(new AuditActionMetadata(action, runsWhenUnaudited)).AddEndpointFilter(InvokeAsync);

    /// <summary>Refuses to start a management API with a change that is not audited.</summary>
    public static void EnsureEveryChangeIsAudited(IEndpointRouteBuilder app)
    {
        var unaudited = app.DataSources.SelectMany(source => source.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Any(IsMutating) == true)
            .Where(e => e.Metadata.GetMetadata<AuditActionMetadata>() is null)
            .Select(e => e.RoutePattern.RawText)
            .ToList();
        if (unaudited.Count > 0)
        {
            throw new InvalidOperationException("Management changes without an audit action (WithAuditAction): " + string.Join(", ", unaudited));
        }
    }

    internal static bool IsMutating(string method) =>
        HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method) || HttpMethods.IsDelete(method);

    /// <summary>Who is calling: the caller's kind and id (a token id, never the token), or anonymous.</summary>
    public static AuditEvent Caller(HttpContext http, string action) =>
        TokenAuthentication.CallerOf(http) is { } caller
            ? new AuditEvent { Action = action, ActorKind = caller.Kind, ActorId = caller.Id, SourceIp = SourceIp(http) }
            : new AuditEvent { Action = action, ActorKind = AuditActorKinds.Anonymous, SourceIp = SourceIp(http) };

    /// <summary>The caller as the services record it (<see cref="Services.Actor"/>).</summary>
    public static Services.Actor Actor(HttpContext http)
    {
        var caller = TokenAuthentication.CallerOf(http);
        return new Services.Actor(caller?.Kind ?? AuditActorKinds.Anonymous, caller?.Id, SourceIp(http));
    }

    public static string? SourceIp(HttpContext http) => http.Connection.RemoteIpAddress?.ToString();

    private static async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var metadata = http.GetEndpoint()?.Metadata.GetMetadata<AuditActionMetadata>()
            ?? throw new InvalidOperationException("The audit filter runs only on endpoints with an audit action.");
        var audit = http.RequestServices.GetRequiredService<AuditLog>();
        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ManagementAudit).FullName!);

        // The path names every id the call is about (key store, key, credential); bodies are never recorded.
        var request = Targets(Caller(http, metadata.Action), http.Request.RouteValues) with { Details = http.Request.Method + " " + http.Request.Path + GivenReason(http) };
        return await AuditedAsync(audit, logger, metadata, request, () => next(context).AsTask(), http.RequestAborted);
    }

    /// <summary>
    /// Runs a change between its records: <paramref name="request"/> as requested before it (if that
    /// cannot be written, 503 and nothing runs, unless the action runs unaudited), and its outcome after.
    /// The endpoint filter and an approved request's execution (ApprovalExecutor) both audit through here.
    /// </summary>
    public static async Task<object?> AuditedAsync(
        AuditLog audit, ILogger logger, AuditActionMetadata metadata, AuditEvent request, Func<Task<object?>> run, CancellationToken ct)
    {
        try
        {
            await audit.AppendAsync(request with { Outcome = AuditOutcome.Requested }, ct);
        }
        catch (AuditUnavailableException e) when (metadata.RunsWhenUnaudited)
        {
            Log.RunsUnaudited(logger, metadata.Action, e);
        }
        catch (AuditUnavailableException)
        {
            return Problems.AuditUnavailable();
        }

        var started = Stopwatch.GetTimestamp();
        object? result;
        try
        {
            result = await run();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var failed = request with
            {
                Outcome = AuditOutcome.Error,
                ErrorName = ErrorName(e),
                Reason = Reason(e),
                LatencyMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            };
            await AppendOutcomeAsync(audit, failed, metadata, logger, ct);
            throw;
        }

        var outcome = Outcome(request, result) with { LatencyMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds };
        try
        {
            await AppendOutcomeAsync(audit, outcome, metadata, logger, ct);
        }
        catch (AuditUnavailableException)
        {
            return Problems.Make(503, "Audit log unavailable",
                "The request was carried out, but the audit log could not record its outcome (the request itself is recorded). Check the server log before retrying.");
        }

        return result;
    }

    private static async Task AppendOutcomeAsync(AuditLog audit, AuditEvent outcome, AuditActionMetadata metadata, ILogger logger, CancellationToken ct)
    {
        try
        {
            await audit.AppendAsync(outcome, ct);
        }
        catch (AuditUnavailableException e) when (metadata.RunsWhenUnaudited)
        {
            Log.RunsUnaudited(logger, metadata.Action, e);
        }
    }

    /// <summary>The caller's reason for a change (the <c>Coffer-Reason</c> header, as a held call's request
    /// keeps it): why a version was marked compromised, say. At most its first 512 characters.</summary>
    private static string GivenReason(HttpContext http) =>
        http.Request.Headers[Approvals.QuorumGate.ReasonHeader].ToString() is { Length: > 0 } reason
            ? ", reason: " + (reason.Length > Approvals.QuorumGate.MaxReasonLength ? reason[..Approvals.QuorumGate.MaxReasonLength] : reason)
            : string.Empty;

    /// <summary>The ids named in the path: <c>{id}</c> is always a key store, <c>{keyId}</c> a key,
    /// <c>{version}</c> one of its versions (a webhook's id stays in Details, "DELETE /api/v1/alerts/webhooks/whk_…").</summary>
    private static AuditEvent Targets(AuditEvent e, RouteValueDictionary route) => e with
    {
        KeyStore = route.TryGetValue("id", out var store) ? store as string : null,
        KeyId = route.TryGetValue("keyId", out var key) ? key as string : null,
        KeyVersion = route.TryGetValue("version", out var version)
            && int.TryParse(version as string, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : null,
    };

    private static AuditEvent Outcome(AuditEvent request, object? result)
    {
        while (result is INestedHttpResult nested)
        {
            result = nested.Result;
        }

        var status = (result as IStatusCodeHttpResult)?.StatusCode ?? StatusCodes.Status200OK;
        var e = request with
        {
            Outcome = status switch
            {
                < 400 => AuditOutcome.Ok,
                401 or 403 => AuditOutcome.Denied,
                _ => AuditOutcome.Error,
            },
            Details = request.Details + " -> " + status.ToString(CultureInfo.InvariantCulture),
        };

        // Only fields known to be safe are read from an answer: a created credential's secret, the
        // shares and the root token of init never reach a record.
        return result switch
        {
            ProblemHttpResult problem => e with { ErrorName = problem.ProblemDetails.Title, Reason = problem.ProblemDetails.Detail },
            IValueHttpResult { Value: Backup.BackupHeader backup } => e with { Details = e.Details + ", " + backup.Describe() },
            IValueHttpResult { Value: KeyView key } => e with { KeyId = key.Id, KeyStore = key.KeyStoreId, KeyVersion = e.KeyVersion ?? key.CurrentVersion, Details = e.Details + $", key '{key.Name}' {key.Status}" },
            IValueHttpResult { Value: KeyStoreView store } => e with { KeyStore = store.Id, Details = e.Details + $", key store '{store.Name}' at '{store.UriPrefix}' ({store.Backend})" },
            IValueHttpResult { Value: PolicyView policy } => e with
            {
                Details = e.Details + (policy.Cleared ? $", access rules cleared as version {policy.Version}" : $", access rules version {policy.Version} with {policy.Document?.Rules?.Count ?? 0} rules"),
            },
            IValueHttpResult { Value: CreatedCredential credential } => e with { KeyStore = credential.KeyStoreId, Details = e.Details + $", credential {credential.Id} with access key id {credential.AccessKeyId}" },
            IValueHttpResult { Value: SessionView session } => e with
            {
                ActorKind = session.CallerKind, ActorId = session.CallerId, Details = e.Details + $", console session for {session.CallerKind} {session.CallerId}",
            },
            IValueHttpResult { Value: CreatedToken token } => e with
            {
                Details = e.Details + $", token {token.Id} '{token.Name}' " +
                    (token.Owner is { } owner ? "for " + owner : "with role " + token.Role + (token.KeyStoreId is { } ks ? " on " + ks : string.Empty)),
            },
            IValueHttpResult { Value: PrincipalView principal } => e with
            {
                Details = e.Details + $", {principal.Kind} {principal.Id} '{principal.Name}' with roles [" +
                    string.Join(", ", principal.Roles.Select(g => g.KeyStoreId is null ? g.Role : g.Role + " on " + g.KeyStoreId)) +
                    "] in groups [" + string.Join(", ", principal.Groups) + "]" + (principal.DisabledAt is null ? string.Empty : ", disabled"),
            },
            IValueHttpResult { Value: RoleView role } => e with { Details = e.Details + $", role {role.Name} with [{string.Join(", ", role.Permissions)}]" },
            IValueHttpResult { Value: KillSwitchView killSwitch } => e with
            {
                Details = e.Details + $", kill switch {killSwitch.Id} on {killSwitch.Scope}{(killSwitch.Value is null ? "" : " " + killSwitch.Value)}" + (killSwitch.Engaged ? ": " + killSwitch.Reason : " released"),
            },
            IValueHttpResult { Value: CreatedWebhook webhook } => e with { Details = e.Details + $", webhook {webhook.Id} to {Alerts.WebhookUrl.Redacted(webhook.Url)}" },
            IValueHttpResult { Value: SealStatusView seal } => e with
            {
                Details = e.Details + (!seal.Sealed ? ", unsealed" : seal.Threshold > 0 ? $", sealed, {seal.Progress} of {seal.Threshold} shares given" : ", sealed"),
            },
            IValueHttpResult { Value: ResplitView resplit } => e with
            {
                Details = e.Details + (resplit.Seal is null ? ", no re-split in progress"
                    : (resplit.InProgress ? ", re-split into " : ", re-split done: ")
                        + (resplit.Seal == SealKinds.Shamir ? $"{resplit.Shares} shares, threshold {resplit.Threshold}" : "the pkcs11 seal")
                        + (resplit.InProgress ? $": {resplit.Progress} of {resplit.Required} current shares given" : string.Empty))
                    + (resplit.PgpFingerprints is { } holders ? $", encrypted to OpenPGP keys [{string.Join(", ", holders)}]" : string.Empty)
                    + (resplit.Rekey is { } rekey ? (rekey.Done ? $", rekey done: {rekey.Resealed} values sealed again" : $", rekey {rekey.Phase}") : string.Empty),
            },
            IValueHttpResult { Value: RekeyView rekey } => e with
            {
                Details = e.Details + (rekey.Done
                    ? $", rekey done{(rekey.Resumed ? " (finished one interrupted past its switch)" : string.Empty)}: {rekey.Resealed} values sealed again, {rekey.Unopenable} opened under neither key"
                    : $", rekey {rekey.Phase}" + (rekey.Nonce is null ? string.Empty : $": {rekey.Progress} of {rekey.Required} current shares given")),
            },
            IValueHttpResult { Value: InitResponse init } => e with
            {
                Details = e.Details + (init.Threshold > 0 ? $", initialised with {init.Shares.Count} shares, threshold {init.Threshold}" : ", initialised")
                    + (init.PgpFingerprints is { } holders ? $", encrypted to OpenPGP keys [{string.Join(", ", holders)}]" : string.Empty),
            },
            _ => e,
        };
    }

    // A known failure is recorded as the problem it answers (its messages are written for the caller
    // and carry no secrets); anything else is summarised by its type only.
    private static string ErrorName(Exception e) => Problems.For(e)?.ProblemDetails.Title ?? "Internal error";

    private static string? Reason(Exception e) => Problems.For(e) is { } problem ? problem.ProblemDetails.Detail : e.GetType().Name;

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Error, Message = "The audit log could not record {Action}; it runs anyway (cutting keys off never waits for the audit store)")]
        public static partial void RunsUnaudited(ILogger logger, string action, Exception exception);
    }
}

/// <summary>The audit action of a management endpoint (<see cref="ManagementAudit.WithAuditAction"/>).</summary>
internal sealed record AuditActionMetadata(string Action, bool RunsWhenUnaudited);
