using Coffer.KillSwitches;
using Coffer.Server.KeyStores;
using Coffer.Server.Keys;
using Coffer.Server.Services;
using Coffer.Storage;

namespace Coffer.Server.KillSwitches;

/// <summary>
/// Engaging and releasing kill switches: what a switch may name is decided here, and
/// <see cref="KillSwitchBoard"/> stores it and swaps the table XKS calls read, so matching calls are
/// refused from the moment engage returns.
/// </summary>
internal sealed class KillSwitchService(KillSwitchBoard board, ICofferStorage storage)
{
    public const int MaxReasonLength = 1024;

    /// <summary>The switch a request describes, checked without reading storage (so a held request is
    /// refused at once when it could only fail).</summary>
    public static (KillSwitchScope Scope, string? Value, string Reason) Parse(string? scopeText, string? value, string? reason)
    {
        if (!KillSwitchScopes.TryParse(scopeText, out var scope))
        {
            throw new InvalidRequestException("scope is one of all, keystore, key, region, account, principal, vpc, vpce.");
        }

        if (string.IsNullOrWhiteSpace(reason) || reason.Length > MaxReasonLength)
        {
            throw new InvalidRequestException($"reason is required (1 to {MaxReasonLength} characters): it tells the next administrator why AWS was cut off.");
        }

        return (scope, value, reason);
    }

    public async Task<KillSwitch> EngageAsync(KillSwitchScope scope, string? value, string reason, Actor actor, CancellationToken ct)
    {
        var regionSets = scope == KillSwitchScope.Region ? await board.RegionSetsAsync(ct) : null;
        if (KillSwitchScopes.ValueProblem(scope, value, name => regionSets?.ContainsKey(name) == true) is { } problem)
        {
            throw new InvalidRequestException(problem);
        }

        if (scope == KillSwitchScope.KeyStore && await storage.KeyStores.GetKeyStoreAsync(value!, ct) is null)
        {
            throw KeyStoreService.KeyStoreNotFound(value!);
        }

        if (scope == KillSwitchScope.Key && await storage.Keys.GetKeyAsync(value!, ct) is null)
        {
            throw KeyService.KeyNotFound(value!);
        }

        return await board.EngageAsync(scope, scope == KillSwitchScope.All ? null : value, reason, actor.Name, ct);
    }

    public async Task<KillSwitch> ReleaseAsync(string id, Actor actor, CancellationToken ct) =>
        await board.ReleaseAsync(id, actor.Name, ct) ?? throw new NotFoundException($"No kill switch with id '{id}' exists.");
}
