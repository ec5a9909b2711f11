using Coffer.Changes;
using Coffer.Crypto;
using Coffer.KillSwitches;
using Coffer.Policies;
using Coffer.Storage;

namespace Coffer.Server.KillSwitches;

/// <summary>
/// The node's kill switches: the engaged set in memory for the XKS hot path (one volatile read per
/// call), the database as the record that survives restarts. A switch takes effect for every call
/// that starts after its engage answered; release restores service just as fast. The set reloads
/// whenever <see cref="ChangeTopic.KillSwitches"/> or <see cref="ChangeTopic.RegionSets"/> changes
/// (a region switch may name a set), on this node or another.
/// </summary>
internal sealed class KillSwitchBoard(ICofferStorage storage, IChangeFeed changes, TimeProvider time)
{
    private volatile KillSwitchSet _current = KillSwitchSet.Empty;

    /// <summary>The engaged switches, as the XKS handler checks them.</summary>
    public KillSwitchSet Current => _current;

    /// <summary>Loads the engaged switches (at start, since they hold across restarts, and as the
    /// subscriber of their topics).</summary>
    public async Task LoadAsync(CancellationToken ct = default)
    {
        var switches = await storage.KillSwitches.ListAsync(includeReleased: false, ct);
        _current = new KillSwitchSet(switches, await RegionSetsAsync(ct));
    }

    /// <summary>The built-in region sets and the user's, by name (a region switch may name one).</summary>
    public Task<IReadOnlyDictionary<string, IReadOnlyList<string>>> RegionSetsAsync(CancellationToken ct = default) =>
        storage.Policies.AllRegionSetsAsync(ct);

    /// <summary>Engages a new switch: stored first (durable), then in force in memory.</summary>
    public async Task<KillSwitch> EngageAsync(KillSwitchScope scope, string? value, string reason, string engagedBy, CancellationToken ct = default)
    {
        var killSwitch = new KillSwitch(CredentialGenerator.NewId("kill"), scope, value, reason, engagedBy, time.GetUtcNow());
        await storage.KillSwitches.EngageAsync(killSwitch, ct);
        await changes.PublishAsync(ChangeTopic.KillSwitches);
        return killSwitch;
    }

    /// <summary>Releases a switch; null if there is none with this id.</summary>
    /// <exception cref="ConflictException">Released already.</exception>
    public async Task<KillSwitch?> ReleaseAsync(string id, string releasedBy, CancellationToken ct = default)
    {
        var released = await storage.KillSwitches.ReleaseAsync(id, releasedBy, time.GetUtcNow(), ct);
        if (released is not null)
        {
            await changes.PublishAsync(ChangeTopic.KillSwitches);
        }

        return released;
    }
}
