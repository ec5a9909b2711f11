namespace Coffer.Changes;

/// <summary>How a change travels between nodes: the topic and the id of the node that published it.</summary>
public sealed record ChangeNotice(ChangeTopic Topic, string NodeId);

/// <summary>
/// The transport that carries this node's changes to the others (none on a single node). Delivery may
/// be lost (the full reload catches up), so <see cref="SendAsync"/> reports a failure by throwing and
/// the feed only logs it. The transport hands what it receives to <see cref="IChangeFeed.ReceiveAsync"/>.
/// </summary>
public interface IChangeBroadcast
{
    Task SendAsync(ChangeNotice notice, CancellationToken ct);
}
