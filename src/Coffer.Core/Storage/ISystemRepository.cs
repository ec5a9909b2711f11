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

    /// <summary>Writes <paramref name="values"/> (a null value deletes the setting) in one transaction,
    /// only if every setting in <paramref name="expected"/> still holds its value: a compare-and-set, so
    /// of two changes to the seal made from the same state (two nodes, two operators) one fails.</summary>
    /// <exception cref="ConflictException">An expected setting changed meanwhile; nothing was written.</exception>
    Task ReplaceSettingsAsync(IReadOnlyDictionary<string, string> expected, IReadOnlyDictionary<string, string?> values, CancellationToken ct = default);

    Task AddTokenAsync(ApiToken token, CancellationToken ct = default);

    Task<ApiToken?> FindTokenByHashAsync(byte[] hash, CancellationToken ct = default);

    Task<ApiToken?> GetTokenAsync(string id, CancellationToken ct = default);

    Task<IReadOnlyList<ApiToken>> ListTokensAsync(CancellationToken ct = default);

    /// <summary>Revokes a token unless that removes the last administrator (<see cref="GuardedChange"/>).</summary>
    Task<GuardedChange> RevokeTokenAsync(string id, DateTimeOffset at, CancellationToken ct = default);
}
