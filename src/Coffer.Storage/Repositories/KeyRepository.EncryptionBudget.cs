using Dapper;

namespace Coffer.Storage.Repositories;

internal sealed partial class KeyRepository
{
    private const string SelectReserved = "SELECT encryptions_reserved FROM key_versions WHERE key_id = @KeyId AND version = @Version";

    private const string AddReserved = "UPDATE key_versions SET encryptions_reserved = encryptions_reserved + @Count WHERE key_id = @KeyId AND version = @Version";

    public async Task<EncryptionReservation> ReserveEncryptionsAsync(string keyId, int version, long count, long limit, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        var parameters = new { KeyId = keyId, Version = version };
        var reserved = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(SelectReserved + storage.Dialect.ForUpdate, parameters, transaction, cancellationToken: ct));
        var granted = reserved is { } r ? Math.Clamp(limit - r, 0, count) : 0;
        if (granted > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(AddReserved, new { KeyId = keyId, Version = version, Count = granted }, transaction, cancellationToken: ct));
            await transaction.CommitAsync(ct);
        }

        return new EncryptionReservation(granted, (reserved ?? 0) + granted);
    }

    public async Task<long> GetEncryptionsReservedAsync(string keyId, int version, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<long?>(new CommandDefinition(SelectReserved, new { KeyId = keyId, Version = version }, cancellationToken: ct)) ?? 0;
    }
}
