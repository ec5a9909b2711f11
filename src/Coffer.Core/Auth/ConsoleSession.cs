namespace Coffer.Auth;

/// <summary>
/// A web console login (docs/console.md, "Sessions"): the SHA-256 of the random session id the browser
/// holds in its cookie, and the Coffer token it stands for, whose caller it is at every call. It ends
/// at <see cref="ExpiresAt"/>, or earlier when unused for the idle timeout since <see cref="LastSeenAt"/>.
/// </summary>
public sealed record ConsoleSession(byte[] Hash, string TokenId, DateTimeOffset CreatedAt, DateTimeOffset LastSeenAt, DateTimeOffset ExpiresAt)
{
    public bool IsLiveAt(DateTimeOffset now, TimeSpan idleTimeout) => now < ExpiresAt && now < LastSeenAt + idleTimeout;
}
