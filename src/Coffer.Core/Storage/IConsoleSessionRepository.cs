using Coffer.Auth;

namespace Coffer.Storage;

/// <summary>The web console's login sessions, found by the SHA-256 of their id (docs/console.md, "Sessions").</summary>
public interface IConsoleSessionRepository
{
    Task AddAsync(ConsoleSession session, CancellationToken ct = default);

    Task<ConsoleSession?> FindAsync(byte[] hash, CancellationToken ct = default);

    /// <summary>Records use at <paramref name="at"/>, which moves the idle timeout on.</summary>
    Task TouchAsync(byte[] hash, DateTimeOffset at, CancellationToken ct = default);

    /// <summary>Ends the session (logout); false when there was none.</summary>
    Task<bool> DeleteAsync(byte[] hash, CancellationToken ct = default);

    /// <summary>Deletes the sessions that ended: past their expiry, or unused since <paramref name="idleBefore"/>.</summary>
    Task<int> DeleteEndedAsync(DateTimeOffset now, DateTimeOffset idleBefore, CancellationToken ct = default);
}
