using Coffer.Audit;
using Coffer.Keys;

namespace Coffer.Server.Services;

/// <summary>
/// Who makes a change, as services record it: the caller's kind and id (a token id, never a token)
/// and the address the call came from. A service takes it instead of the HTTP request, so the same
/// change runs from an endpoint, an approved request (as its requester) or the scheduler.
/// </summary>
internal sealed record Actor(string Kind, string? Id, string? SourceIp)
{
    /// <summary>Scheduled work: <see cref="Lifecycle.ScheduledChangeService"/> and <see cref="Lifecycle.KeyDestructionService"/>.</summary>
    public static Actor System { get; } = new(AuditActorKinds.System, KeyVersion.SystemActor, null);

    /// <summary>The id a key version records as who changed it last.</summary>
    public string Name => Id ?? Kind;

    /// <summary>An audit record of <paramref name="action"/> by this actor.</summary>
    public AuditEvent Event(string action) => new() { Action = action, ActorKind = Kind, ActorId = Id, SourceIp = SourceIp };
}
