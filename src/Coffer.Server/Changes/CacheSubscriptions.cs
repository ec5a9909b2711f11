using Coffer.Changes;
using Coffer.Server.KillSwitches;
using Coffer.Server.Policies;
using Coffer.Server.Seal;

namespace Coffer.Server.Changes;

/// <summary>
/// Every in-memory copy of database state a node keeps, and the topics that make it reload: the one
/// list to extend when a new cache appears (docs/architecture.md, "Changes").
/// </summary>
internal static class CacheSubscriptions
{
    public static void Subscribe(IChangeFeed changes, SealManager seal, KillSwitchBoard killSwitches, AccessRules rules)
    {
        changes.Subscribe("key ring", seal.ReloadAsync, ChangeTopic.KeyRing);
        changes.Subscribe("kill switches", killSwitches.LoadAsync, ChangeTopic.KillSwitches, ChangeTopic.RegionSets);
        changes.Subscribe("access rules", rules.ReloadAsync, ChangeTopic.AccessRules, ChangeTopic.RegionSets);
    }
}
