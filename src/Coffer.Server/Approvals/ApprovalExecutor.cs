using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Coffer.Approvals;
using Coffer.Audit;
using Coffer.Auth;
using Coffer.Crypto;
using Coffer.Server.Approvals.Commands;
using Coffer.Server.Audit;
using Coffer.Server.Management;
using Coffer.Server.Management.Oidc;
using Coffer.Server.Seal;
using Coffer.Server.Services;
using Coffer.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Coffer.Server.Approvals;

/// <summary>
/// Runs an approved request, once. Only the vote that moved the request pending → approved
/// gets here, so the call runs at most once even when final votes race; a node that stops meanwhile
/// leaves it approved, never run twice, and the scheduler then marks it interrupted (ApprovalInterruptions).
/// The request's typed command is read from what it stored (<see cref="ApprovedCommands"/>) and
/// checked first: if the target's fingerprint changed, the request becomes void and nothing runs. The
/// requester must still be able to make the call (enabled, holding the command's permission now), else
/// the request becomes void too: approvals add a check, never rights. Then the command runs through the
/// service its endpoint calls, as the requester, audited as its endpoint audits it and naming this
/// approval; the answer is stored as the endpoint would have given it, sealed when it holds a secret.
/// </summary>
internal sealed partial class ApprovalExecutor(
    ICofferStorage storage, AuditLog audit, TimeProvider time, SealManager seal, Authorizer authorizer, CommandServices services,
    Hosting.CofferOptions options, IOptions<JsonOptions> json, ILogger<ApprovalExecutor> logger)
{
    /// <param name="voter">Who cast the deciding vote: the execution's audit record names them, and the
    /// change's record carries their address.</param>
    public async Task RunAsync(ApprovalRequest request, Actor voter, CancellationToken ct)
    {
        var command = ApprovedCommands.Of(request);
        var requester = await CurrentRequesterAsync(request.Requester, ct);
        var voidReason =
            command is null ? "this server cannot run such a request any more; nothing ran"
            : await ApprovalFingerprint.ComputeAsync(storage, command.Scope, ct) != request.Fingerprint
                ? "the target changed after the request was made; nothing ran (ask again to act on its current state)"
            : requester is null ? "the requester is disabled or their token is revoked or expired; nothing ran"
            // The call runs with the requester's rights of now: a role taken away meanwhile is not borrowed from the approvers.
            : !await authorizer.AllowsAsync(requester, command.Permission, command.KeyStoreId, command.KeyId, ct)
                ? $"the requester no longer holds {command.Permission} for this call; nothing ran"
            : null;
        if (voidReason is not null)
        {
            await audit.AppendAsync(ApprovalAudit.System(voter.SourceIp, AuditActions.ApprovalVoid, request, voidReason), ct);
            await storage.Approvals.MoveAsync(request.Id, ApprovalStates.Approved, ApprovalStates.Void, time.GetUtcNow(), voidReason, ct);
            return;
        }

        var record = ApprovalAudit.Event(voter, AuditActions.ApprovalExecute, request);
        await audit.AppendAsync(record with { Outcome = AuditOutcome.Requested }, ct);

        // The change's own records, as its endpoint writes them: its actor is the requester, and it
        // names this approval, whose record names the approvers.
        var actor = new Actor(requester!.Kind, requester.Id, voter.SourceIp);
        var change = actor.Event(command!.AuditAction) with
        {
            KeyStore = command.KeyStoreId, KeyId = command.KeyId, KeyVersion = command.KeyVersion,
            Details = $"{request.Method} {request.Path} (approval {request.Id})",
        };
        var answer = await ManagementAudit.AuditedAsync(audit, logger, new AuditActionMetadata(command.AuditAction, command.RunsWhenUnaudited), change,
            async () => await RunAsync(command, actor, ct), ct);
        var (status, body) = Render(answer);

        byte[]? sealedResult = null;
        if (QuorumOperations.AnswerHoldsSecret(request.Operation) && status < 300 && body is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            try
            {
                sealedResult = await seal.SealSecretAsync(SealPurpose.ApprovalResult, request.Id, bytes, ct);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(bytes);
            }

            body = null;
        }

        await storage.Approvals.RecordExecutionAsync(request.Id, status, body, sealedResult, time.GetUtcNow(), ct);
        await audit.AppendAsync(record with
        {
            Outcome = status < 400 ? AuditOutcome.Ok : AuditOutcome.Error,
            Details = record.Details + " -> " + status.ToString(CultureInfo.InvariantCulture),
        }, ct);
    }

    /// <summary>The command's answer; a failure becomes the problem a call from outside would get
    /// (ProblemMiddleware's policy: details of an unknown failure go only to the log).</summary>
    private async Task<IResult> RunAsync(ApprovedCommand command, Actor requester, CancellationToken ct)
    {
        try
        {
            return await command.RunAsync(services, requester, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException && Problems.For(e) is { } problem)
        {
            return problem;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.Failed(logger, command.AuditAction, e.GetType().Name, e);
            return Problems.Make(500, "Internal error", "Coffer could not complete the request; the server log has details.");
        }
    }

    /// <summary>The status and JSON body an answer has on the wire.</summary>
    private (int Status, string? Body) Render(object? answer)
    {
        while (answer is INestedHttpResult nested)
        {
            answer = nested.Result;
        }

        var status = (answer as IStatusCodeHttpResult)?.StatusCode ?? StatusCodes.Status200OK;
        var value = answer is ProblemHttpResult problem ? problem.ProblemDetails : (answer as IValueHttpResult)?.Value;
        return (status, value is null ? null : JsonSerializer.Serialize(value, value.GetType(), json.Value.SerializerOptions));
    }

    /// <summary>The requester as they are now, or null when they can no longer act as they did when
    /// they asked. With a Coffer token: that token still valid and its owner still enabled, with the
    /// owner's current roles (the same check as every call, <see cref="TokenAuthentication.CallerOfTokenAsync"/>),
    /// so revoking a leaked token also voids what was asked with it. An identity-provider login has no
    /// token to check again: the Coffer user it named must still be enabled, and the IdP groups it had
    /// count with the roles today's configuration maps them to (a mapping removed since grants nothing).</summary>
    private async Task<Caller?> CurrentRequesterAsync(Caller asked, CancellationToken ct)
    {
        if (asked.TokenId is not null)
        {
            var token = (await storage.System.ListTokensAsync(ct)).FirstOrDefault(t => t.Id == asked.TokenId);
            return token is null ? null : (await TokenAuthentication.CallerOfTokenAsync(storage, token, time.GetUtcNow(), ct)).Caller;
        }

        var mapped = options.Oidc?.GrantsOf(asked.Groups) ?? [];
        if (asked.Id.StartsWith(OidcTokenValidator.CallerIdPrefix, StringComparison.Ordinal))
        {
            return mapped.Count > 0 ? asked with { Grants = mapped } : null;
        }

        return asked.Kind == CallerKinds.User && await storage.Principals.GetAsync(asked.Id, ct) is { IsEnabled: true } user
            ? Caller.ForPrincipal(user, null) with { Grants = [.. user.Grants.Union(mapped)] }
            : null;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Error, Message = "An approved {Action} failed with {ExceptionType}")]
        public static partial void Failed(ILogger logger, string action, string exceptionType, Exception exception);
    }
}
