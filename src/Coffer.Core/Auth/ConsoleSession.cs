namespace Coffer.Auth;

/// <summary>
/// A web console login (docs/console.md, "Sessions"): the SHA-256 of the random session id the browser
/// holds in its cookie, and what it stands for: the Coffer token it was opened with, whose caller it is
/// at every call, or (<see cref="TokenId"/> null) the identity-provider login it was opened through
/// (<see cref="Oidc"/>). It ends at <see cref="ExpiresAt"/>, or earlier when unused for the idle timeout
/// since <see cref="LastSeenAt"/>.
/// </summary>
public sealed record ConsoleSession(byte[] Hash, string? TokenId, DateTimeOffset CreatedAt, DateTimeOffset LastSeenAt, DateTimeOffset ExpiresAt, ConsoleOidcLogin? Oidc = null)
{
    public bool IsLiveAt(DateTimeOffset now, TimeSpan idleTimeout) => now < ExpiresAt && now < LastSeenAt + idleTimeout;
}

/// <summary>Who an identity-provider login was, as its ID token said at login (docs/console.md, "Login
/// through the identity provider"): the rights are derived from these at every call, never stored.</summary>
/// <param name="Subject">The IdP's stable id of the person (<c>sub</c>).</param>
/// <param name="Name">The name shown for the caller.</param>
/// <param name="Groups">The groups claim's values at login.</param>
public sealed record ConsoleOidcLogin(string Subject, string Name, IReadOnlyList<string> Groups);
