using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading.RateLimiting;
using Coffer.Audit;
using Coffer.Crypto;
using Coffer.Keys;
using Coffer.KillSwitches;
using Coffer.Server.Audit;
using Coffer.Server.Changes;
using Coffer.Server.Hosting;
using Coffer.Server.KeyRing;
using Coffer.Server.KillSwitches;
using Coffer.Server.Logging;
using Coffer.Server.Metrics;
using Coffer.Server.Policies;
using Coffer.Server.Seal;
using Coffer.Server.Xks.Anonymous;
using Coffer.Server.Xks.Operations;
using Coffer.Server.Xks.SigV4;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Xks;

/// <summary>
/// The XKS listener's single request pipeline: route, sealed check, body, SigV4, quota, JSON,
/// operation, answer, one log line. Written as one terminal middleware rather than MVC routing so
/// the hot path does no reflection and no avoidable allocation (docs/design.md, "Performance budget").
/// </summary>
internal sealed partial class XksHandler(
    SealManager seal,
    AuditLog audit,
    KillSwitchBoard killSwitches,
    CofferMetrics metrics,
    SigV4Verifier verifier,
    DeepHealthCheck health,
    AccessRules accessRules,
    ClusterFreshness freshness,
    EncryptionBudgets budgets,
    AnonymousFailures anonymous,
    SourceLimits sourceLimits,
    XksListenerOptions options,
    TimeProvider time,
    ILogger<XksHandler> logger)
{
    private readonly ConcurrentDictionary<string, RateLimiter> _quotas = new(StringComparer.Ordinal);

    public async Task HandleAsync(HttpContext context)
    {
        var call = new XksCall { Started = Stopwatch.GetTimestamp() };
        try
        {
            await HandleCoreAsync(context, call);
        }
        catch (AuditUnavailableException e)
        {
            // Fail closed (docs/design.md, "Audit"): a call that could not be recorded is not answered.
            call.Outcome = AuditOutcome.Error;
            call.ErrorName = nameof(XksErrorName.DependencyTimeoutException);
            Log.AuditFailed(logger, LogText.Escape(call.KmsRequestId), e.Message);
            WriteError(context, XksErrorName.DependencyTimeoutException, AuditUnavailableMessage);
        }
        catch (XksException e)
        {
            await AnswerErrorAsync(context, call, e.Name, e.Message);
        }
        catch (CryptoBackendUnavailableException e)
        {
            // The backend's details (function, device error code) go to the log; the caller gets the spec's name.
#pragma warning disable CA1873 // a backend failure is rare; its log line is always wanted
            Log.HsmFailure(logger, LogText.Escape(call.KmsRequestId), e.Message);
#pragma warning restore CA1873
            var mapped = XksErrors.From(e);
            await AnswerErrorAsync(context, call, mapped.Name, mapped.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            // Internals are logged, never shown to the caller (docs/style.md, practice 6).
#pragma warning disable CA1873 // an unexpected failure is rare; its log line is always wanted
            Log.Unexpected(logger, e.GetType().Name, LogText.Escape(call.KmsRequestId), e);
#pragma warning restore CA1873
            await AnswerErrorAsync(context, call, XksErrorName.InternalException, "Coffer could not complete the request.");
        }
        finally
        {
            if (call.Operation != XksOperation.None)
            {
                metrics.Calls.Record(call.Operation, call.Outcome, call.ErrorName, Stopwatch.GetElapsedTime(call.Started));
            }

            // A source over its limit is answered without a line: the audit record counts it.
            if (call.Operation != XksOperation.None && call.Reason != AnonymousReasons.SourceLimit && logger.IsEnabled(LogLevel.Information))
            {
                LogCall(call);
            }
        }
    }

    /// <summary>The one log line of a call. Request metadata and the key id from the path are
    /// caller-controlled (unauthenticated, even), so they are escaped: no value can forge a line (XKS
    /// spec, "Logging": protect log integrity). The console logger escapes again, for every caller.</summary>
#pragma warning disable CA1873 // the only caller checks logger.IsEnabled first
    private void LogCall(XksCall call) =>
        Log.Call(logger, LogText.Escape(call.KmsRequestId), call.KeyStore ?? "-", LogText.Escape(call.KeyId), call.Operation,
            LogText.Escape(call.KmsOperation), LogText.Escape(call.Principal), AuditOutcomes.ToText(call.Outcome), call.ErrorName ?? "-", call.LatencyMs);
#pragma warning restore CA1873

    private async Task HandleCoreAsync(HttpContext context, XksCall call)
    {
        var request = context.Request;
        var route = XksRoute.Parse(request.Path.Value);
        call.Operation = route.Operation == XksOperation.None ? XksOperation.Unknown : route.Operation;

        // Held until the call has answered: a change meanwhile must not zero the secret its signature is
        // checked with while the body is still arriving.
        using var lease = seal.LeaseKeyRing();
        var store = route.Operation == XksOperation.None ? null : lease.Ring.FindByPrefix(route.Prefix);
        if (OverSourceLimit(context, call, store))
        {
            // The path a flood takes: no exception, no log line, and a pause before the answer, so each
            // of the source's connections gets at most a few answers a second however fast it sends.
            await PauseAsync(context);
            await AnswerErrorAsync(context, call, XksErrorName.ThrottlingException, "Too many requests from this address failed before authentication; try again later.");
            return;
        }

        if (route.Operation == XksOperation.None)
        {
            call.Reason = AnonymousReasons.NotXksPath;
            throw new XksException(XksErrorName.InvalidUriPathException, "The URI path is not an XKS API path.");
        }

        if (!HttpMethods.IsPost(request.Method))
        {
            // XKS spec, "API operations": a GET on an API URI MUST be rejected with 405.
            call.Outcome = AuditOutcome.Error;
            call.ErrorName = "MethodNotAllowed";
            await RecordAsync(context, call);
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            context.Response.Headers.Allow = "POST";
            return;
        }

        if (store is null)
        {
            var sealedBackend = seal.IsSealed ? seal.BackendOfPrefix(route.Prefix) : null;
            if (sealedBackend is null)
            {
                // XKS spec, Authentication: the prefix is resolved first; unknown is 404, not 401.
                call.Reason = AnonymousReasons.UnknownPrefix;
                throw new XksException(XksErrorName.InvalidUriPathException, "No key store is configured at this URI path prefix.");
            }

            // Sealed: no secret is in memory to verify SigV4 with, so answer before it.
            call.KeyStore = route.Prefix.ToString();
            call.Reason = AnonymousReasons.Sealed;
            if (route.Operation == XksOperation.GetHealthStatus)
            {
                await AnswerAsync(context, call, health.Unavailable(sealedBackend), XksJson.Default.HealthResponse);
                return;
            }

            XksThrow.InvalidState("Coffer is sealed: no key material is available until it is unsealed.");
        }

        call.KeyStore = store.KeyStore.Name;
        call.KeyStoreId = store.KeyStore.Id;
        var operation = route.Operation;
        if (route.KeyId.Length > ManagedKey.MaxExternalIdLength)
        {
            // Refused before the body is read or the id is copied: the log line and the audit sample
            // carry it cut (with a 7,900-character id, each failed call was once a record of over a kilobyte).
            call.KeyId = string.Concat(route.KeyId[..ManagedKey.MaxExternalIdLength], "...");
            call.Reason = AnonymousReasons.KeyIdTooLong;
            XksThrow.Validation(InvalidKeyIdMessage);
        }

        call.KeyId = operation == XksOperation.GetHealthStatus ? null : route.KeyId.ToString();
        var body = await ReadBodyAsync(request, options.MaxRequestBytes, context.RequestAborted);
        try
        {
            Span<byte> bodyHash = stackalloc byte[32];
            SHA256.HashData(body.Span, bodyHash);
            var failure = verifier.Verify(request, bodyHash, store.TryGetSecret, out var auth);
            if (failure != SigV4Failure.None)
            {
                Log.AuthenticationFailed(logger, store.KeyStore.Name, failure.ToString());
                call.Reason = failure.ToString();
                if (call.OverSourceLimit)
                {
                    // Naming a live access key id earned a signature check, not a faster answer.
                    await PauseAsync(context);
                }

                throw new XksException(XksErrorName.AuthenticationFailedException, "The request signature (AWS SigV4) could not be verified.");
            }

            call.AccessKeyId = auth.AccessKeyId;
            EnforceQuota(store);

            XksRequest? xks;
            try
            {
                xks = JsonSerializer.Deserialize(body.Span, XksJson.Default.XksRequest);
            }
            catch (JsonException)
            {
                throw new XksException(XksErrorName.ValidationException, "The request body is not valid JSON for this operation.");
            }

            var metadata = xks?.RequestMetadata;
            call.Metadata = metadata;
            RequestValidation.RequireMetadata(metadata, operation);

            if (operation == XksOperation.GetHealthStatus)
            {
                await AnswerHealthAsync(context, call, store.KeyStore.Backend);
                return;
            }

            if (!freshness.IsCurrent)
            {
                // Fail closed (docs/cluster.md): a key disabled or a switch engaged on another node may not be in force here.
                call.Reason = "stale";
                throw new XksException(XksErrorName.DependencyTimeoutException, "Coffer cannot confirm it has the cluster's latest changes; retry shortly.");
            }

            if (operation == XksOperation.Unknown)
            {
                XksThrow.Unsupported("This key operation is not implemented.");
            }

            if (!ManagedKey.IsValidExternalId(call.KeyId!))
            {
                XksThrow.Validation(InvalidKeyIdMessage);
            }

            var key = store.FindKey(call.KeyId!)
                ?? throw new XksException(XksErrorName.KeyNotFoundException, "No key with this externalKeyId exists in this key store.");
            call.ManagedKeyId = key.Key.Id;
            EnforceKillSwitches(call, store, metadata);
            EnforceAccessRules(context, call, store, operation, auth.Region);
            if (key.Key.DestroysAt is not null)
            {
                // Waiting for destruction: unusable but not gone, as AWS KMS treats a key pending
                // deletion (KMSInvalidStateException); cancelling brings it back.
                XksThrow.InvalidState("The key is scheduled for destruction.");
            }

            switch (operation)
            {
                case XksOperation.GetKeyMetadata:
                    await AnswerAsync(context, call, GetKeyMetadata.Execute(key), XksJson.Default.KeyMetadataResponse);
                    break;
                case XksOperation.Encrypt:
                    var now = time.GetUtcNow();
                    call.KeyVersion = key.EncryptingVersionAt(now) ?? key.Key.CurrentVersion;
                    var encrypted = await Encrypt.ExecuteAsync(key, xks!, options, budgets, now, context.RequestAborted);
                    try
                    {
                        await AnswerAsync(context, call, encrypted, XksJson.Default.EncryptResponse);
                    }
                    catch (AuditUnavailableException) when (XksCiphertext.TryReadMetadata(encrypted.CiphertextMetadata, out var taken))
                    {
                        // Not answered, so the ciphertext never left: its encryption goes back to the version's budget.
                        budgets.Return(key.Key.Id, taken);
                        throw;
                    }

                    break;
                default:
                    call.KeyVersion = XksCiphertext.TryReadMetadata(xks!.CiphertextMetadata, out var version) ? version : null;
                    var response = await Decrypt.ExecuteAsync(key, xks, options, time.GetUtcNow(), context.RequestAborted);
                    try
                    {
                        await AnswerAsync(context, call, response, XksJson.Default.DecryptResponse);
                    }
                    finally
                    {
                        CryptographicOperations.ZeroMemory(response.Plaintext);
                    }

                    break;
            }
        }
        finally
        {
            body.Dispose();
        }
    }

    // An engaged switch that covers the call stops it before any key is touched.
    private void EnforceKillSwitches(XksCall call, KeyStoreEntry store, RequestMetadata? metadata)
    {
        var engaged = killSwitches.Current;
        if (engaged.Engaged.Count == 0)
        {
            return;
        }

        _ = KmsKeyArn.TryParse(metadata?.KmsKeyArn, out var region, out var account);
        var blocking = engaged.Match(new KillSwitchCall(store.KeyStore.Id, call.ManagedKeyId!, region, account,
            metadata?.AwsPrincipalArn, metadata?.AwsSourceVpc, metadata?.AwsSourceVpce));
        if (blocking is not null)
        {
            call.Denied = true;
            call.Reason = "kill-switch=" + blocking.Id;
            XksThrow.InvalidState($"Blocked: Coffer's kill switch {blocking.Id} cuts this key off until an administrator releases it.");
        }
    }

    private const string InvalidKeyIdMessage = "The externalKeyId must be 1 to 128 characters of letters, digits, '-', '.' and '_'.";

    // Before any other work: a source that keeps failing before it authenticates costs a lookup here,
    // not a body read, a signature check or a log line. A request that names one of the key store's live
    // access key ids still goes on to its signature check: behind a TCP load balancer every caller shares
    // one address, and a flood of requests without credentials must not lock AWS KMS out. Whoever knows
    // an access key id can make Coffer check signatures, at the cost it had before the limit, and its
    // failures are answered after the same pause.
    private bool OverSourceLimit(HttpContext context, XksCall call, KeyStoreEntry? store)
    {
        if (sourceLimits.Allows(context.Connection.RemoteIpAddress, store?.KeyStore.Id))
        {
            return false;
        }

        call.OverSourceLimit = true;
        if (NamesLiveCredential(context.Request, store))
        {
            return false;
        }

        call.KeyStore = store?.KeyStore.Name;
        call.KeyStoreId = store?.KeyStore.Id;
        call.Reason = AnonymousReasons.SourceLimit;
        return true;
    }

    private static bool NamesLiveCredential(HttpRequest request, KeyStoreEntry? store) =>
        store is not null
        && SigV4Authorization.TryParse(request.Headers.Authorization.ToString(), out var authorization)
        && store.TryGetSecret(authorization.AccessKeyId, out _);

    private static async Task PauseAsync(HttpContext context)
    {
        try
        {
            await Task.Delay(SourceLimits.Pause, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // Gone: still counted, and nothing is sent.
        }
    }

    private void EnforceQuota(KeyStoreEntry store)
    {
        if (options.RequestsPerSecondPerKeyStore <= 0)
        {
            return;
        }

        // XKS spec, "API operations": a proxy MAY keep a quota per path prefix and answer ThrottlingException.
        var limiter = _quotas.GetOrAdd(store.KeyStore.Id, _ => new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.RequestsPerSecondPerKeyStore,
            TokensPerPeriod = options.RequestsPerSecondPerKeyStore,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
        using var lease = limiter.AttemptAcquire();
        if (!lease.IsAcquired)
        {
            throw new XksException(XksErrorName.ThrottlingException, "The request rate exceeds this key store's quota.");
        }
    }

    private const string UnreadableBody =
        "The request body could not be read: its chunked framing is malformed, it is shorter than its Content-Length, or it arrived too slowly.";

    private static async Task<PooledBody> ReadBodyAsync(HttpRequest request, int limit, CancellationToken ct)
    {
        if (request.ContentLength > limit)
        {
            XksThrow.Unsupported("The request body exceeds the largest size Coffer supports.");
        }

        var reader = request.BodyReader;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await reader.ReadAsync(ct);
            }
            catch (Exception e) when (e is BadHttpRequestException or IOException)
            {
                // Kestrel's framing errors (a malformed chunk size, a body cut short, one slower than
                // the minimum data rate) and a connection reset: the caller's request is unreadable,
                // Coffer is not broken. Kestrel closes the connection after the answer, if any.
                throw new XksException(XksErrorName.ValidationException, UnreadableBody);
            }

            var buffer = result.Buffer;
            if (buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                XksThrow.Unsupported("The request body exceeds the largest size Coffer supports.");
            }

            if (result.IsCompleted)
            {
                var body = PooledBody.Copy(buffer);
                reader.AdvanceTo(buffer.End);
                return body;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Records the call, then answers 200 with <paramref name="value"/>: nothing reaches the
    /// caller before its audit record is durable.</summary>
    private async Task AnswerAsync<T>(HttpContext context, XksCall call, T value, JsonTypeInfo<T> type)
    {
        call.Outcome = AuditOutcome.Ok;
        await RecordAsync(context, call);
        WriteJson(context.Response, StatusCodes.Status200OK, value, type);
    }

    /// <summary>Records the failed call, then answers the error; if even that cannot be recorded,
    /// the answer is DependencyTimeoutException for the audit store.</summary>
    private async Task AnswerErrorAsync(HttpContext context, XksCall call, XksErrorName name, string message)
    {
        call.Outcome = call.Denied ? AuditOutcome.Denied : AuditOutcome.Error;
        call.ErrorName = name.ToString();
        try
        {
            await RecordAsync(context, call);
        }
        catch (AuditUnavailableException e)
        {
            call.ErrorName = nameof(XksErrorName.DependencyTimeoutException);
            Log.AuditFailed(logger, LogText.Escape(call.KmsRequestId), e.Message);
            (name, message) = (XksErrorName.DependencyTimeoutException, AuditUnavailableMessage);
        }

        WriteError(context, name, message);
    }

    /// <summary>The one answer to a call whose audit record could not be written (docs/cluster.md,
    /// "When the database is gone"): the audit store is a dependency Coffer cannot answer without, and
    /// AWS KMS retries 503 DependencyTimeoutException, while InternalException is for what a retry will
    /// not fix.</summary>
    private const string AuditUnavailableMessage = "Coffer cannot reach its audit store, so the request was not carried out; retry shortly.";

    /// <summary>
    /// GetHealthStatus: the node's status, recorded like every call. When the record cannot be written
    /// the node cannot serve any key call, so it answers UNAVAILABLE without the record (docs/cluster.md,
    /// "When the database is gone"): health is no key operation, that answer grants and reveals nothing
    /// that the unauthenticated <c>GET /ping</c> does not, and AWS KMS needs it to take the node out.
    /// </summary>
    private async Task AnswerHealthAsync(HttpContext context, XksCall call, string backend)
    {
        try
        {
            await AnswerAsync(context, call, freshness.IsCurrent ? health.Current(backend) : health.Unavailable(backend), XksJson.Default.HealthResponse);
        }
        catch (AuditUnavailableException e)
        {
            Log.HealthUnaudited(logger, LogText.Escape(call.KmsRequestId), e.Message);
            WriteJson(context.Response, StatusCodes.Status200OK, health.Unavailable(backend), XksJson.Default.HealthResponse);
        }
    }

    private ValueTask RecordAsync(HttpContext context, XksCall call)
    {
        call.LatencyMs = Stopwatch.GetElapsedTime(call.Started).TotalMilliseconds;
        if (call.AccessKeyId is null)
        {
            CountUnauthenticated(context, call);
            return ValueTask.CompletedTask;
        }

        if (!audit.Enabled)
        {
            return ValueTask.CompletedTask;
        }

        var metadata = call.Metadata;
        _ = KmsKeyArn.TryParse(metadata?.KmsKeyArn, out var region, out var account); // malformed: both stay null
        return audit.AppendThenAnswerAsync(new AuditEvent
        {
            Action = call.Operation switch
            {
                XksOperation.Encrypt => AuditActions.XksEncrypt,
                XksOperation.Decrypt => AuditActions.XksDecrypt,
                XksOperation.GetKeyMetadata => AuditActions.XksMetadata,
                XksOperation.GetHealthStatus => AuditActions.XksHealth,
                _ => "xks.unknown", // a path that names no XKS operation
            },
            Outcome = call.Outcome,
            ErrorName = call.ErrorName,
            Reason = call.Reason,
            ActorKind = call.AccessKeyId is null ? AuditActorKinds.Anonymous : AuditActorKinds.Xks,
            ActorId = call.AccessKeyId,
            // The ids the management records use too, so one key's XKS use and changes line up.
            KeyStore = call.KeyStoreId ?? call.KeyStore,
            KeyId = call.ManagedKeyId,
            Details = call.KeyId is null ? null : "externalKeyId=" + call.KeyId,
            KeyVersion = call.KeyVersion,
            LatencyMs = call.LatencyMs,
            SourceIp = context.Connection.RemoteIpAddress?.ToString(),
            KmsRequestId = metadata?.KmsRequestId,
            AwsPrincipalArn = metadata?.AwsPrincipalArn,
            KmsKeyArn = metadata?.KmsKeyArn,
            AwsAccount = account,
            AwsRegion = region,
            KmsOperation = metadata?.KmsOperation,
            KmsViaService = metadata?.KmsViaService,
            AwsSourceVpc = metadata?.AwsSourceVpc,
            AwsSourceVpce = metadata?.AwsSourceVpce,
        });
    }

    /// <summary>A request that never authenticated is counted, not recorded on its own (Xks/Anonymous):
    /// a durable write per request would let anyone fill the disk. It also spends a token of its source's
    /// allowance, unless it failed only because Coffer is sealed or it was already refused for that.</summary>
    private void CountUnauthenticated(HttpContext context, XksCall call)
    {
        var address = context.Connection.RemoteIpAddress;
        if (call.Reason is not (AnonymousReasons.Sealed or AnonymousReasons.SourceLimit))
        {
            sourceLimits.Spend(address, call.KeyStoreId);
        }

        anonymous.Count(new AnonymousFailureKey(address?.ToString(), call.KeyStoreId ?? call.KeyStore, call.Outcome, call.ErrorName, call.Reason),
            context.Request.Method, context.Request.Path.Value);
    }

    private static void WriteError(HttpContext context, XksErrorName name, string message)
    {
        if (!context.Response.HasStarted)
        {
            WriteJson(context.Response, XksErrors.StatusCode(name), new XksErrorResponse(name.ToString(), message), XksJson.Default.XksErrorResponse);
        }
    }

    /// <summary>Serialized before the headers go out, so the answer carries its Content-Length: Kestrel
    /// then sends headers and body in one write when the call returns, instead of chunked framing whose
    /// terminator is a second write (on the audit writer's thread, racing the socket thread's send).</summary>
    private static void WriteJson<T>(HttpResponse response, int statusCode, T value, JsonTypeInfo<T> type)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(value, type);
        response.StatusCode = statusCode;
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        response.BodyWriter.Write(body);
    }

    /// <summary>What one call's log line and audit record say (XKS spec, "Logging"); never
    /// plaintext, AAD or secrets.</summary>
    private sealed class XksCall
    {
        public long Started { get; init; }
        public XksOperation Operation { get; set; }
        public RequestMetadata? Metadata { get; set; }
        public string? KmsRequestId => Metadata?.KmsRequestId;
        public string? KmsOperation => Metadata?.KmsOperation;
        public string? Principal => Metadata?.AwsPrincipalArn;
        public string? KeyStore { get; set; }
        public string? KeyStoreId { get; set; }
        public string? KeyId { get; set; }
        public string? ManagedKeyId { get; set; }
        public int? KeyVersion { get; set; }
        public string? AccessKeyId { get; set; }
        public AuditOutcome Outcome { get; set; } = AuditOutcome.Error;
        public string? ErrorName { get; set; }
        public string? Reason { get; set; }

        /// <summary>Its source had spent its allowance of failures before authentication (SourceLimits).</summary>
        public bool OverSourceLimit { get; set; }

        /// <summary>Refused by a kill switch or an access rule (audit outcome denied; Reason says which).</summary>
        public bool Denied { get; set; }
        public double LatencyMs { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2000, Level = LogLevel.Information,
            Message = "xks {KmsRequestId} keystore={KeyStore} key={KeyId} op={Operation} kmsOperation={KmsOperation} principal={Principal} outcome={Outcome} error={ErrorName} latencyMs={LatencyMs:F3}")]
        public static partial void Call(ILogger logger, string kmsRequestId, string keyStore, string keyId, XksOperation operation,
            string kmsOperation, string principal, string outcome, string errorName, double latencyMs);

        [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "xks SigV4 rejected for key store {KeyStore}: {Failure}")]
        public static partial void AuthenticationFailed(ILogger logger, string keyStore, string failure);

        [LoggerMessage(EventId = 2003, Level = LogLevel.Error, Message = "xks {KmsRequestId} HSM failure: {Reason}")]
        public static partial void HsmFailure(ILogger logger, string kmsRequestId, string reason);

        [LoggerMessage(EventId = 2004, Level = LogLevel.Error, Message = "xks {KmsRequestId} not answered: the audit record could not be written ({Reason})")]
        public static partial void AuditFailed(ILogger logger, string kmsRequestId, string reason);

        [LoggerMessage(EventId = 2006, Level = LogLevel.Error, Message = "xks {KmsRequestId} health answered UNAVAILABLE without its audit record, which could not be written ({Reason})")]
        public static partial void HealthUnaudited(ILogger logger, string kmsRequestId, string reason);

        [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "xks {KmsRequestId} failed with {ExceptionType}")]
        public static partial void Unexpected(ILogger logger, string exceptionType, string kmsRequestId, Exception exception);
    }
}
