using System.Collections.Frozen;
using Coffer.Policies;
using Coffer.Storage;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Policies;

/// <summary>
/// The access rules the XKS hot path enforces: every key store's and key's current rule document,
/// compiled, in one immutable snapshot that a reload swaps in atomically (as the key ring is, see
/// <see cref="KeyRing.KeyRingSnapshot"/>). A decision reads memory only: no lock, no I/O.
/// </summary>
/// <remarks>
/// Rules are not secret, so they are loaded at start whether or not Coffer is sealed, and reloaded
/// whenever <see cref="Coffer.Changes.ChangeTopic.AccessRules"/> or
/// <see cref="Coffer.Changes.ChangeTopic.RegionSets"/> changes, on this node or another. A stored document that no longer compiles
/// (edited in the database, or naming a region set that is gone) fails closed: its scope gets one
/// deny rule, <see cref="UnreadableRule"/>, and the server logs an error.
/// </remarks>
internal sealed partial class AccessRules(ICofferStorage storage, ILogger<AccessRules> logger) : IDisposable
{
    public const string UnreadableRule = "unreadable-stored-rules";

    private readonly SemaphoreSlim _reload = new(1, 1);
    private volatile Snapshot _current = Snapshot.Empty;

    /// <summary>The regions of a built-in or user set, as of the last reload; null when unknown.</summary>
    public IReadOnlyList<string>? RegionSet(string name) =>
        RegionSets.BuiltIn.GetValueOrDefault(name) ?? _current.UserSets.GetValueOrDefault(name);

    public IReadOnlyDictionary<string, IReadOnlyList<string>> UserSets => _current.UserSets;

    /// <summary>The compiled rules in force for a key store or key (empty when none).</summary>
    public AccessRuleSet For(string scope, string scopeId) =>
        (scope == PolicyScopes.Key ? _current.Keys : _current.KeyStores).GetValueOrDefault(scopeId) ?? AccessRuleSet.Empty;

    /// <summary>The decision for one XKS call on <paramref name="keyId"/> in <paramref name="keyStoreId"/>.</summary>
    public AccessDecision Decide(string keyStoreId, string keyId, in AccessRequest request)
    {
        var snapshot = _current;
        if (snapshot.IsEmpty)
        {
            return default(AccessDecision) with { Allowed = true };
        }

        return AccessPolicy.Decide(snapshot.KeyStores.GetValueOrDefault(keyStoreId), snapshot.Keys.GetValueOrDefault(keyId), request);
    }

    public static async Task<AccessRules> LoadAsync(ICofferStorage storage, ILogger<AccessRules> logger, CancellationToken ct)
    {
        var rules = new AccessRules(storage, logger);
        await rules.ReloadAsync(ct);
        return rules;
    }

    /// <summary>Reads every current document and region set and swaps in the new snapshot.</summary>
    public async Task ReloadAsync(CancellationToken ct = default)
    {
        await _reload.WaitAsync(ct);
        try
        {
            var sets = (await storage.Policies.ListRegionSetsAsync(ct))
                .ToFrozenDictionary(s => s.Name, s => s.Regions, StringComparer.Ordinal);
            var keyStores = new Dictionary<string, AccessRuleSet>(StringComparer.Ordinal);
            var keys = new Dictionary<string, AccessRuleSet>(StringComparer.Ordinal);
            foreach (var policy in await storage.Policies.ListCurrentAsync(ct))
            {
                var compiled = Compile(policy, sets);
                (policy.Scope == PolicyScopes.Key ? keys : keyStores)[policy.ScopeId] = compiled;
            }

            _current = new Snapshot(keyStores.ToFrozenDictionary(StringComparer.Ordinal), keys.ToFrozenDictionary(StringComparer.Ordinal), sets);
        }
        finally
        {
            _reload.Release();
        }
    }

    private AccessRuleSet Compile(StoredPolicy policy, FrozenDictionary<string, IReadOnlyList<string>> sets)
    {
        var error = AccessPolicyDocuments.TryRead(policy.Document ?? "", out var document);
        if (error is null && AccessPolicyCompiler.TryCompile(document!, name => RegionSets.BuiltIn.GetValueOrDefault(name) ?? sets.GetValueOrDefault(name), out var rules, out error))
        {
            return rules;
        }

        Log.Unreadable(logger, policy.Scope, policy.ScopeId, policy.Version, error?.ToString() ?? "unknown");
        return FailClosed;
    }

    public void Dispose() => _reload.Dispose();

    private static AccessRuleSet FailClosed { get; } = CompileFailClosed();

    private static AccessRuleSet CompileFailClosed()
    {
        var document = new AccessPolicyDocument { Rules = [new AccessRuleDocument { Name = UnreadableRule, Effect = "deny" }] };
        _ = AccessPolicyCompiler.TryCompile(document, _ => null, out var rules, out _);
        return rules;
    }

    private sealed record Snapshot(
        FrozenDictionary<string, AccessRuleSet> KeyStores,
        FrozenDictionary<string, AccessRuleSet> Keys,
        FrozenDictionary<string, IReadOnlyList<string>> UserSets)
    {
        public static Snapshot Empty { get; } = new(
            FrozenDictionary<string, AccessRuleSet>.Empty, FrozenDictionary<string, AccessRuleSet>.Empty, FrozenDictionary<string, IReadOnlyList<string>>.Empty);

        public bool IsEmpty { get; } = KeyStores.Count == 0 && Keys.Count == 0;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1300, Level = LogLevel.Error, Message = "The stored access rules of {Scope} {ScopeId} (version {Version}) cannot be compiled ({Error}); every call they govern is denied until they are set again")]
        public static partial void Unreadable(ILogger logger, string scope, string scopeId, int version, string error);
    }
}
