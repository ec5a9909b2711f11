using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Coffer.Approvals;
using Coffer.Policies;
using Coffer.Server.KillSwitches;
using Coffer.Server.Lifecycle;
using Coffer.Server.Management;
using Coffer.Server.Policies;
using Coffer.Server.Services;
using Coffer.Storage;

namespace Coffer.Server.Approvals.Commands;

/// <summary>
/// Reads the command of a held request from what a request stores: its operation, method, route values
/// and JSON body. It names the operation and its targets by the route values' names ({id},
/// {keyId}, {version}, {credentialId}, {name}) and the method, never by the route's text, so a request
/// captured before a route changed shape still runs; a value it does not need is ignored.
/// </summary>
internal static class ApprovedCommands
{
    /// <summary>The command, or null when the stored request describes no operation this server knows.</summary>
    /// <exception cref="InvalidRequestException">The body is not what the operation takes.</exception>
    public static ApprovedCommand? Parse(string operation, string method, IReadOnlyDictionary<string, string> route, string? body)
    {
        string? Route(string name) => route.GetValueOrDefault(name);
        var put = string.Equals(method, "PUT", StringComparison.OrdinalIgnoreCase);
        var delete = string.Equals(method, "DELETE", StringComparison.OrdinalIgnoreCase);
        return operation switch
        {
            QuorumOperations.KeyStoreDelete when Route("id") is { } id => new DeleteKeyStoreCommand(id),
            QuorumOperations.CredentialAdd when Route("id") is { } id => new AddCredentialCommand(id),
            QuorumOperations.CredentialRevoke when Route("id") is { } id && Route("credentialId") is { } credential => new RevokeCredentialCommand(id, credential),
            QuorumOperations.KeyDisable when Route("keyId") is { } key => new DisableKeyCommand(key),
            QuorumOperations.KeyDestroy when Route("keyId") is { } key => Destroy(key, Route("version"), body),
            QuorumOperations.KillSwitchEngage => Engage(body),
            QuorumOperations.KillSwitchRelease when Route("id") is { } id => new ReleaseKillSwitchCommand(id),
            QuorumOperations.PolicyChange when (put || delete) && Route("name") is { } name =>
                new RegionSetCommand(name, put ? RegionSetService.Parse(name, Read(body, ManagementJson.Default.RegionSetRequest)?.Regions) : null),
            QuorumOperations.PolicyChange when (put || delete) && (Route("keyId") ?? Route("id")) is { } target =>
                new AccessRulesCommand(Route("keyId") is null ? PolicyScopes.KeyStore : PolicyScopes.Key, target, put ? AccessRuleService.Parse(body) : null),
            QuorumOperations.QuorumChange when (put || delete) && Route("name") is { } name =>
                new QuorumPolicyCommand(name, put ? QuorumPolicyService.Check(name, Read(body, ManagementJson.Default.QuorumPolicyRequest)) : null),
            _ => null,
        };
    }

    /// <summary>The command of a stored request, or null when it can no longer be read.</summary>
    public static ApprovedCommand? Of(ApprovalRequest request)
    {
        try
        {
            return Parse(request.Operation, request.Method, request.RouteValues, request.Body);
        }
        catch (InvalidRequestException)
        {
            return null;
        }
    }

    private static ApprovedCommand? Destroy(string key, string? version, string? body)
    {
        var waitingPeriod = KeyLifecycleService.WaitingPeriod(Read(body, ManagementJson.Default.ScheduleDestructionRequest)?.WaitingPeriodDays);
        if (version is null)
        {
            return new ScheduleKeyDestructionCommand(key, waitingPeriod);
        }

        return int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            ? new ScheduleVersionDestructionCommand(key, number, waitingPeriod)
            : null;
    }

    private static EngageKillSwitchCommand Engage(string? body)
    {
        var request = Read(body, ManagementJson.Default.KillSwitchRequest)
            ?? throw new InvalidRequestException("The body is a kill switch: {\"scope\": \"...\", \"value\": \"...\", \"reason\": \"...\"}.");
        var (scope, value, reason) = KillSwitchService.Parse(request.Scope, request.Value, request.Reason);
        return new EngageKillSwitchCommand(scope, value, reason);
    }

    private static T? Read<T>(string? body, JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            return body is null ? null : JsonSerializer.Deserialize(body, type);
        }
        catch (JsonException e)
        {
            throw new InvalidRequestException($"The body is not what this call takes: {e.Message}");
        }
    }
}
