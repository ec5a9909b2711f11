namespace Coffer.Storage;

/// <summary>A uniqueness rule of the store was violated; the change was not made.</summary>
public sealed class ConflictException : Exception
{
    public ConflictException(string message) : base(message) { }

    public ConflictException(string message, Exception inner) : base(message, inner) { }

    public ConflictException() { }
}
