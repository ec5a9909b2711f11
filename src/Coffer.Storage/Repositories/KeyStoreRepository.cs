using Coffer.KeyStores;
using Dapper;

namespace Coffer.Storage.Repositories;

internal sealed class KeyStoreRepository(CofferStorage storage) : IKeyStoreRepository
{
    private const string KeyStoreColumns = "id AS Id, name AS Name, uri_prefix AS Prefix, backend AS Backend, created_at AS CreatedAt";

    private const string CredentialColumns =
        "id AS Id, key_store_id AS KeyStoreId, access_key_id AS AccessKeyId, sealed_secret AS SealedSecret, created_at AS CreatedAt, revoked_at AS RevokedAt";

    private const string InsertKeyStore =
        "INSERT INTO key_stores (id, name, uri_prefix, backend, created_at) VALUES (@Id, @Name, @UriPrefix, @Backend, @CreatedAt)";

    private const string SelectKeyStores = "SELECT " + KeyStoreColumns + " FROM key_stores ORDER BY name, id";

    private const string SelectKeyStore = "SELECT " + KeyStoreColumns + " FROM key_stores WHERE id = @Id";

    private const string CountKeyStores = "SELECT COUNT(*) FROM key_stores";

    private const string KeyStoreExists = "SELECT 1 FROM key_stores WHERE id = @Id";

    private const string KeyStoreHasKeys = "SELECT COUNT(*) FROM (SELECT 1 FROM keys WHERE key_store_id = @Id LIMIT 1) AS k";

    private const string DeleteCredentialsOfKeyStore = "DELETE FROM credentials WHERE key_store_id = @Id";

    private const string DeleteKeyStore = "DELETE FROM key_stores WHERE id = @Id";

    private const string DeleteKeyStorePolicy = "DELETE FROM rotation_policies WHERE scope = 'keystore' AND target_id = @Id";

    private const string InsertCredential =
        "INSERT INTO credentials (id, key_store_id, access_key_id, sealed_secret, created_at, revoked_at) " +
        "VALUES (@Id, @KeyStoreId, @AccessKeyId, @SealedSecret, @CreatedAt, @RevokedAt)";

    private const string SelectCredentials =
        "SELECT " + CredentialColumns + " FROM credentials WHERE (@KeyStoreId IS NULL OR key_store_id = @KeyStoreId) ORDER BY created_at, id";

    private const string RevokeCredential =
        "UPDATE credentials SET revoked_at = @RevokedAt WHERE id = @Id AND key_store_id = @KeyStoreId AND revoked_at IS NULL";

    public async Task CreateKeyStoreAsync(KeyStore keyStore, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(keyStore);
        await using var connection = await storage.OpenConnectionAsync(ct);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(InsertKeyStore, new
            {
                keyStore.Id,
                keyStore.Name,
                UriPrefix = keyStore.Prefix.Value,
                keyStore.Backend,
                CreatedAt = DbValues.Time(keyStore.CreatedAt),
            }, cancellationToken: ct));
        }
        catch (Exception exception) when (storage.Dialect.IsUniqueViolation(exception, out var columns))
        {
            throw new ConflictException(columns switch
            {
                "key_stores.name" => $"a key store named '{keyStore.Name}' already exists",
                "key_stores.uri_prefix" => keyStore.Prefix.Value.Length == 0
                    ? "a key store with the empty prefix already exists"
                    : $"a key store with prefix '{keyStore.Prefix.Value}' already exists",
                _ => $"a key store with id '{keyStore.Id}' already exists",
            }, exception);
        }
    }

    public async Task<IReadOnlyList<KeyStore>> ListKeyStoresAsync(CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<KeyStoreRow>(new CommandDefinition(SelectKeyStores, cancellationToken: ct));
        return [.. rows.Select(row => row.ToKeyStore())];
    }

    public async Task<KeyStore?> GetKeyStoreAsync(string id, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<KeyStoreRow>(new CommandDefinition(SelectKeyStore, new { Id = id }, cancellationToken: ct));
        return row?.ToKeyStore();
    }

    public async Task<DeleteOutcome> DeleteKeyStoreAsync(string id, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        var parameters = new { Id = id };
        // Locked (PostgreSQL): a key or credential added to it meanwhile waits, then finds it gone.
        if (await connection.ExecuteScalarAsync<long?>(new CommandDefinition(KeyStoreExists + storage.Dialect.ForUpdate, parameters, transaction, cancellationToken: ct)) is null)
        {
            return DeleteOutcome.NotFound;
        }

        if (await connection.ExecuteScalarAsync<long>(new CommandDefinition(KeyStoreHasKeys, parameters, transaction, cancellationToken: ct)) != 0)
        {
            return DeleteOutcome.NotEmpty;
        }

        await connection.ExecuteAsync(new CommandDefinition(DeleteCredentialsOfKeyStore, parameters, transaction, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(DeleteKeyStorePolicy, parameters, transaction, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(DeleteKeyStore, parameters, transaction, cancellationToken: ct));
        await transaction.CommitAsync(ct);
        return DeleteOutcome.Deleted;
    }

    public async Task<int> CountKeyStoresAsync(CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        return (int)await connection.ExecuteScalarAsync<long>(new CommandDefinition(CountKeyStores, cancellationToken: ct));
    }

    public async Task AddCredentialAsync(Credential credential, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(credential);
        await using var connection = await storage.OpenConnectionAsync(ct);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(InsertCredential, new
            {
                credential.Id,
                credential.KeyStoreId,
                credential.AccessKeyId,
                credential.SealedSecret,
                CreatedAt = DbValues.Time(credential.CreatedAt),
                RevokedAt = DbValues.Time(credential.RevokedAt),
            }, cancellationToken: ct));
        }
        catch (Exception exception) when (storage.Dialect.IsUniqueViolation(exception, out var columns))
        {
            throw new ConflictException(columns == "credentials.access_key_id"
                ? $"a credential with access key id '{credential.AccessKeyId}' already exists"
                : $"a credential with id '{credential.Id}' already exists", exception);
        }
        catch (Exception exception) when (storage.Dialect.IsForeignKeyViolation(exception))
        {
            throw new ConflictException($"key store '{credential.KeyStoreId}' does not exist", exception);
        }
    }

    public async Task<IReadOnlyList<Credential>> ListCredentialsAsync(string? keyStoreId, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<CredentialRow>(new CommandDefinition(SelectCredentials, new { KeyStoreId = keyStoreId }, cancellationToken: ct));
        return [.. rows.Select(row => row.ToCredential())];
    }

    public async Task<bool> RevokeCredentialAsync(string keyStoreId, string credentialId, DateTimeOffset at, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var changed = await connection.ExecuteAsync(new CommandDefinition(RevokeCredential, new
        {
            Id = credentialId,
            KeyStoreId = keyStoreId,
            RevokedAt = DbValues.Time(at),
        }, cancellationToken: ct));
        return changed > 0;
    }
}

internal sealed class KeyStoreRow
{
    public string Id { get; init; } = "";
    public string Name { get; init; } = "";
    public string Prefix { get; init; } = "";
    public string Backend { get; init; } = "";
    public string CreatedAt { get; init; } = "";

    public KeyStore ToKeyStore() =>
        new(Id, Name, UriPrefix.Parse(Prefix), DbValues.ParseTime(CreatedAt), Backend);
}

internal sealed class CredentialRow
{
    public string Id { get; init; } = "";
    public string KeyStoreId { get; init; } = "";
    public string AccessKeyId { get; init; } = "";
    public byte[] SealedSecret { get; init; } = [];
    public string CreatedAt { get; init; } = "";
    public string? RevokedAt { get; init; }

    public Credential ToCredential() =>
        new(Id, KeyStoreId, AccessKeyId, SealedSecret, DbValues.ParseTime(CreatedAt), DbValues.ParseOptionalTime(RevokedAt));
}
