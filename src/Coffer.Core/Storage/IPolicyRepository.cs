using Coffer.Policies;

namespace Coffer.Storage;

/// <summary>What a rule document applies to (stored text).</summary>
public static class PolicyScopes
{
    public const string KeyStore = "keystore";
    public const string Key = "key";
}

/// <summary>One version of a key store's or key's access rules.</summary>
/// <param name="Document">The rule document as JSON text; null when this version cleared the rules.</param>
/// <param name="CreatedBy">The management token that set it.</param>
public sealed record StoredPolicy(string Scope, string ScopeId, int Version, string? Document, DateTimeOffset CreatedAt, string? CreatedBy);

/// <summary>A user-defined set of AWS regions that rules can name.</summary>
public sealed record StoredRegionSet(string Name, IReadOnlyList<string> Regions, DateTimeOffset UpdatedAt);

/// <summary>
/// Versioned access rule documents and user region sets. The repository stores documents as given;
/// checking them is the policy compiler's job. Every method is one transaction; thread-safe.
/// </summary>
public interface IPolicyRepository
{
    /// <summary>Adds the next version (1 for the first) of a scope's rules atomically and returns it.</summary>
    Task<StoredPolicy> AddVersionAsync(string scope, string scopeId, string? document, DateTimeOffset at, string? createdBy, CancellationToken ct = default);

    /// <summary>One version, or the latest when <paramref name="version"/> is null; null when none.</summary>
    Task<StoredPolicy?> GetAsync(string scope, string scopeId, int? version = null, CancellationToken ct = default);

    /// <summary>Every version of a scope's rules, oldest first.</summary>
    Task<IReadOnlyList<StoredPolicy>> ListVersionsAsync(string scope, string scopeId, CancellationToken ct = default);

    /// <summary>The latest version of every scope whose latest version holds a document.</summary>
    Task<IReadOnlyList<StoredPolicy>> ListCurrentAsync(CancellationToken ct = default);

    Task<IReadOnlyList<StoredRegionSet>> ListRegionSetsAsync(CancellationToken ct = default);

    /// <summary>Creates or replaces a set.</summary>
    Task PutRegionSetAsync(StoredRegionSet regionSet, CancellationToken ct = default);

    /// <summary>False when no such set exists.</summary>
    Task<bool> DeleteRegionSetAsync(string name, CancellationToken ct = default);
}

/// <summary>Questions about region sets that need the database (custom sets live there).</summary>
public static class PolicyRepositoryRegionSets
{
    /// <summary>Every region set by name: the built-in ones and those of this database.</summary>
    public static async Task<IReadOnlyDictionary<string, IReadOnlyList<string>>> AllRegionSetsAsync(this IPolicyRepository policies, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(policies);
        var sets = new Dictionary<string, IReadOnlyList<string>>(RegionSets.BuiltIn, StringComparer.Ordinal);
        foreach (var set in await policies.ListRegionSetsAsync(ct))
        {
            sets[set.Name] = set.Regions;
        }

        return sets;
    }
}
