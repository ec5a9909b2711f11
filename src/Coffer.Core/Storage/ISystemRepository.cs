using Coffer.Auth;

namespace Coffer.Storage;

/// <summary>
/// Settings that describe the installation (seal kind, Shamir parameters, the master key check
/// value, node id) and the management API's tokens (hashed). Thread-safe.
/// </summary>
public interface ISystemRepository
{
    Task<string?> GetSettingAsync(string name, CancellationToken ct = default);

    Task SetSettingAsync(string name, string value, CancellationToken ct = default);

    /// <summary>Writes all settings in one transaction, failing if any already exists — so two
    /// concurrent <c>coffer init</c> cannot both succeed.</summary>
    /// <exception cref="ConflictException">A setting already exists.</exception>
    Task InsertSettingsAsync(IReadOnlyDictionary<string, string> settings, CancellationToken ct = default);

    Task AddTokenAsync(ApiToken token, CancellationToken ct = default);

    Task<ApiToken?> FindTokenByHashAsync(byte[] hash, CancellationToken ct = default);

    Task<IReadOnlyList<ApiToken>> ListTokensAsync(CancellationToken ct = default);

    /// <summary>Revokes a token unless that removes the last administrator (<see cref="GuardedChange"/>).</summary>
    Task<GuardedChange> RevokeTokenAsync(string id, DateTimeOffset at, CancellationToken ct = default);
}
