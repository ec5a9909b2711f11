using Coffer.Changes;
using Coffer.Policies;
using Coffer.Server.KeyStores;
using Coffer.Server.Keys;
using Coffer.Server.Services;
using Coffer.Storage;

namespace Coffer.Server.Policies;

/// <summary>
/// Setting and clearing the versioned access rules of a key store or key, and the user-defined region
/// sets rules name. A document is checked whole before anything is stored; each change adds a version
/// and publishes its topic, so the rules XKS calls are decided by reload on every node.
/// </summary>
internal sealed class AccessRuleService(AccessRules rules, IChangeFeed changes, ICofferStorage storage, TimeProvider time)
{
    /// <summary>A rule document from its JSON text (<see cref="InvalidRequestException"/> naming the field at fault).</summary>
    public static AccessPolicyDocument Parse(string? json) =>
        AccessPolicyDocuments.TryRead(json ?? "null", out var document) is { } error ? throw Refused(error) : document!;

    public static InvalidRequestException Refused(AccessPolicyError error) =>
        new($"The rule document was refused and nothing changed: {error.Field}: {error.Message}");

    public async Task<StoredPolicy> SetAsync(string scope, string scopeId, AccessPolicyDocument document, Actor actor, CancellationToken ct)
    {
        await RequireTargetAsync(scope, scopeId, ct);
        if (!AccessPolicyCompiler.TryCompile(document, rules.RegionSet, out _, out var error))
        {
            throw Refused(error!);
        }

        var stored = await storage.Policies.AddVersionAsync(scope, scopeId, AccessPolicyDocuments.Write(document), time.GetUtcNow(), actor.Id, ct);
        await changes.PublishAsync(ChangeTopic.AccessRules);
        return stored;
    }

    public async Task<StoredPolicy> ClearAsync(string scope, string scopeId, Actor actor, CancellationToken ct)
    {
        var current = await storage.Policies.GetAsync(scope, scopeId, null, ct);
        if (current?.Document is null)
        {
            await RequireTargetAsync(scope, scopeId, ct);
            throw new NotFoundException($"{Describe(scope, scopeId)} has no access rules to clear.");
        }

        var stored = await storage.Policies.AddVersionAsync(scope, scopeId, null, time.GetUtcNow(), actor.Id, ct);
        await changes.PublishAsync(ChangeTopic.AccessRules);
        return stored;
    }

    public static string Describe(string scope, string scopeId) => scope == PolicyScopes.Key ? $"Key '{scopeId}'" : $"Key store '{scopeId}'";

    /// <summary>Refuses rules of a key store or key that does not exist.</summary>
    public async Task RequireTargetAsync(string scope, string scopeId, CancellationToken ct)
    {
        if (scope == PolicyScopes.Key ? await storage.Keys.GetKeyAsync(scopeId, ct) is null : await storage.KeyStores.GetKeyStoreAsync(scopeId, ct) is null)
        {
            throw scope == PolicyScopes.Key ? KeyService.KeyNotFound(scopeId) : KeyStoreService.KeyStoreNotFound(scopeId);
        }
    }
}
