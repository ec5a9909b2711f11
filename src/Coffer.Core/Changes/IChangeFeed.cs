namespace Coffer.Changes;

/// <summary>
/// The one seam between the writes that change database state and the node's in-memory copies of
/// it (key ring, kill switches, access rules). A writer publishes a topic after its write committed;
/// a cache subscribes its reload to the topics it copies.
/// </summary>
/// <remarks>
/// Guarantees (docs/architecture.md, "Changes"): <see cref="PublishAsync"/> returns only after every
/// local subscriber of the topic has reloaded from storage read after the call began, so a change is
/// in force on this node for every call that starts after its writer answers; the change is then
/// handed to the broadcast (if any) for the other nodes. Reloads of one subscriber never overlap, so a
/// later reload is never overwritten by an earlier one. A subscriber that fails is logged and does not
/// stop the others; the periodic full reload retries it. Thread-safe.
/// </remarks>
public interface IChangeFeed
{
    /// <summary>This node's id, which tags what it broadcasts.</summary>
    string NodeId { get; }

    /// <summary>After a committed write: reloads this node's subscribers of <paramref name="topic"/>,
    /// then tells the other nodes. Takes no cancellation token: a change already stored is always
    /// applied, even when its caller has gone.</summary>
    /// <exception cref="ChangeNotInForceException">A subscriber could not reload: the change is stored
    /// and broadcast but not in force on this node until the full reload retries it.</exception>
    Task PublishAsync(ChangeTopic topic);

    /// <summary>A change another node published, as the broadcast delivers it: runs the local
    /// subscribers and broadcasts nothing. A notice tagged with this node's own id is ignored (this
    /// node applied it when it published); failures are logged, never thrown. True when every
    /// subscriber it ran reloaded (a transport that vouches for freshness needs to know).</summary>
    Task<bool> ReceiveAsync(ChangeNotice notice, CancellationToken ct = default);

    /// <summary>Reloads every subscriber (the safety net); failures are logged, never thrown. True when
    /// every subscriber reloaded.</summary>
    Task<bool> ReloadAllAsync(CancellationToken ct = default);

    /// <summary>Makes <paramref name="reload"/> run whenever one of <paramref name="topics"/> changes.
    /// <paramref name="name"/> names the cache in logs.</summary>
    void Subscribe(string name, Func<CancellationToken, Task> reload, params ChangeTopic[] topics);
}
