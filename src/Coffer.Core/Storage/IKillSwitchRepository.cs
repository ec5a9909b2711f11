using Coffer.KillSwitches;

namespace Coffer.Storage;

/// <summary>Kill switches, engaged and released (released ones stay as history).</summary>
public interface IKillSwitchRepository
{
    /// <summary>Engaged switches, oldest first; with <paramref name="includeReleased"/>, released ones too.</summary>
    Task<IReadOnlyList<KillSwitch>> ListAsync(bool includeReleased = false, CancellationToken ct = default);

    /// <summary>Stores a new engaged switch (durable when the task completes).</summary>
    Task EngageAsync(KillSwitch killSwitch, CancellationToken ct = default);

    /// <summary>Releases an engaged switch; null if no switch has this id.</summary>
    /// <exception cref="ConflictException">It was released already.</exception>
    Task<KillSwitch?> ReleaseAsync(string id, string releasedBy, DateTimeOffset releasedAt, CancellationToken ct = default);
}
