using Coffer.Changes;
using Coffer.KillSwitches;
using Coffer.Policies;
using Coffer.Server.Services;
using Coffer.Storage;

namespace Coffer.Server.Policies;

/// <summary>
/// Defining and deleting user-defined region sets. The built-in sets are read-only, and a set in use
/// by rules or by an engaged kill switch is not deleted: rules naming a missing set would fail closed.
/// </summary>
internal sealed class RegionSetService(IChangeFeed changes, ICofferStorage storage, TimeProvider time)
{
    /// <summary>The distinct regions of a set named <paramref name="name"/>, checked without reading storage.</summary>
    public static IReadOnlyList<string> Parse(string name, IReadOnlyList<string?>? regions)
    {
        RefuseBuiltIn(name);
        if (!RegionSets.IsValidSetName(name, out var error))
        {
            throw new InvalidRequestException("name: " + error);
        }

        if (regions is not { Count: > 0 and <= RegionSets.MaxRegions })
        {
            throw new InvalidRequestException($"regions lists 1 to {RegionSets.MaxRegions} AWS region names (eu-west-1).");
        }

        for (var i = 0; i < regions.Count; i++)
        {
            if (!RegionSets.IsRegionName(regions[i] ?? ""))
            {
                throw new InvalidRequestException($"regions[{i}] is not an AWS region name (eu-west-1); sets hold regions, not other sets or patterns.");
            }
        }

        return [.. regions.Distinct(StringComparer.Ordinal)!];
    }

    public async Task<StoredRegionSet> PutAsync(string name, IReadOnlyList<string?>? regions, CancellationToken ct)
    {
        var set = new StoredRegionSet(name, Parse(name, regions), time.GetUtcNow());
        await storage.Policies.PutRegionSetAsync(set, ct);
        await changes.PublishAsync(ChangeTopic.RegionSets);
        return set;
    }

    public async Task DeleteAsync(string name, CancellationToken ct)
    {
        RefuseBuiltIn(name);

        // Rules that name a missing set would fail closed on the next reload: refuse instead.
        var users = (await storage.Policies.ListCurrentAsync(ct)).Where(p => Uses(p.Document!, name)).Select(p => $"{p.Scope} {p.ScopeId}").ToList();
        if (users.Count > 0)
        {
            throw new ConflictException($"Region set '{name}' is used by the access rules of {string.Join(", ", users)}; change those rules first.");
        }

        // An engaged region switch naming a missing set would block nothing after the next restart.
        var switches = (await storage.KillSwitches.ListAsync(includeReleased: false, ct)).Where(s => s.Scope == KillSwitchScope.Region && s.Value == name).Select(s => s.Id).ToList();
        if (switches.Count > 0)
        {
            throw new ConflictException($"Region set '{name}' is named by the engaged kill switch(es) {string.Join(", ", switches)}; release them first.");
        }

        if (!await storage.Policies.DeleteRegionSetAsync(name, ct))
        {
            throw NotFound(name);
        }

        await changes.PublishAsync(ChangeTopic.RegionSets);
    }

    public static NotFoundException NotFound(string name) => new($"No region set named '{name}' exists.");

    private static void RefuseBuiltIn(string name)
    {
        if (RegionSets.BuiltIn.ContainsKey(name))
        {
            throw new ConflictException($"'{name}' is a built-in region set and read-only; define your own under another name.");
        }
    }

    private static bool Uses(string document, string name)
    {
        _ = AccessPolicyDocuments.TryRead(document, out var parsed);
        return parsed?.Rules?.Any(r => r is not null && (r.KmsKeyRegion?.Contains(name) == true || r.SigningRegion?.Contains(name) == true)) == true;
    }
}
