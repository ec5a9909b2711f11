using Dapper;

namespace Coffer.Storage.Repositories;

internal sealed class SealedDataRepository(CofferStorage storage) : ISealedDataRepository
{
    // An erased value is empty (a destroyed version, a removed webhook): nothing to seal again.
    private const string SelectKeyMaterial =
        "SELECT key_id, version, material FROM key_versions WHERE backend = 'software' AND length(material) > 0 ORDER BY key_id, version";

    private const string SelectSigV4Secrets =
        "SELECT access_key_id, CAST(0 AS BIGINT), sealed_secret FROM credentials WHERE length(sealed_secret) > 0 ORDER BY access_key_id";

    private const string SelectWebhookSecrets =
        "SELECT id, CAST(0 AS BIGINT), sealed_secret FROM alert_webhooks WHERE length(sealed_secret) > 0 ORDER BY id";

    private const string SelectApprovalResults =
        "SELECT id, CAST(0 AS BIGINT), sealed_result FROM approval_requests WHERE sealed_result IS NOT NULL ORDER BY id";

    public async Task<IReadOnlyList<SealedValue>> ListAsync(CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginReadAsync(connection, ct);
        var values = new List<SealedValue>();
        foreach (var (kind, sql) in new[]
        {
            (SealedValueKind.KeyMaterial, SelectKeyMaterial),
            (SealedValueKind.SigV4Secret, SelectSigV4Secrets),
            (SealedValueKind.WebhookSecret, SelectWebhookSecrets),
            (SealedValueKind.ApprovalResult, SelectApprovalResults),
        })
        {
            var rows = await connection.QueryAsync<(string Id, long Version, byte[] Bytes)>(new CommandDefinition(sql, transaction: transaction, cancellationToken: ct));
            values.AddRange(rows.Select(r => new SealedValue(kind, r.Id, checked((int)r.Version), r.Bytes)));
        }

        return values;
    }

    public async Task<int> ReplaceAsync(IReadOnlyList<(SealedValue Value, byte[] Replacement)> replacements, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(replacements);
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        var replaced = 0;
        foreach (var (value, replacement) in replacements)
        {
            var sql = value.Kind switch
            {
                SealedValueKind.KeyMaterial => "UPDATE key_versions SET material = @New WHERE key_id = @Id AND version = @Version AND material = @Old",
                SealedValueKind.SigV4Secret => "UPDATE credentials SET sealed_secret = @New WHERE access_key_id = @Id AND sealed_secret = @Old",
                SealedValueKind.WebhookSecret => "UPDATE alert_webhooks SET sealed_secret = @New WHERE id = @Id AND sealed_secret = @Old",
                SealedValueKind.ApprovalResult => "UPDATE approval_requests SET sealed_result = @New WHERE id = @Id AND sealed_result = @Old",
                _ => throw new ArgumentOutOfRangeException(nameof(replacements), value.Kind, "Unknown kind of sealed value."),
            };
            replaced += await connection.ExecuteAsync(new CommandDefinition(
                sql, new { New = replacement, value.Id, Version = (long)value.Version, Old = value.Bytes }, transaction, cancellationToken: ct));
        }

        await transaction.CommitAsync(ct);
        return replaced;
    }
}
