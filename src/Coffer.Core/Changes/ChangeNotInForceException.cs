namespace Coffer.Changes;

/// <summary>A change was stored, but this node could not reload a cache that copies it: it is not in
/// force here until the periodic full reload succeeds. The message names the topic only.</summary>
public sealed class ChangeNotInForceException : Exception
{
    public ChangeNotInForceException(ChangeTopic topic)
        : base($"The change was stored, but this node could not reload its {topic} from the database; it takes effect here when the next periodic reload succeeds.") =>
        Topic = topic;

    public ChangeNotInForceException() { }

    public ChangeNotInForceException(string message) : base(message) { }

    public ChangeNotInForceException(string message, Exception inner) : base(message, inner) { }

    public ChangeTopic? Topic { get; }
}
