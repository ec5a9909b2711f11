using System.Security.Cryptography;
using Coffer.Crypto;
using Coffer.Testing;
using Microsoft.Data.Sqlite;

namespace Coffer.Server.Tests.Xks;

/// <summary>
/// 500 InternalException: the one way to reach it today is stored key material that no longer opens
/// (KeyRingLoader marks the version broken). The answer names no internals; the log has them.
/// </summary>
public abstract class InternalErrorTests(string backend) : IAsyncLifetime
{
    private DevServer _node = null!;
    private XksClient _xks = null!;

    public async Task InitializeAsync()
    {
        _node = await DevServer.StartAsync(backend: backend);
        _xks = XksClient.For(_node);
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    /// <summary>Flips one byte of the wrapped material of version 1 of <paramref name="keyId"/> in the
    /// database, then seals and unseals so the key ring is rebuilt from storage.</summary>
    private async Task CorruptMaterialAsync(string keyId)
    {
        await using (var db = new SqliteConnection($"Data Source={Path.Combine(_node.DataDirectory, "coffer.db")};Pooling=False"))
        {
            await db.OpenAsync();
            byte[] material;
            await using (var read = db.CreateCommand())
            {
                read.CommandText = "SELECT material FROM key_versions WHERE key_id = $id AND version = 1";
                read.Parameters.AddWithValue("$id", keyId);
                material = (byte[])(await read.ExecuteScalarAsync())!;
            }

            material[^1] ^= 0x01;
            await using var write = db.CreateCommand();
            write.CommandText = "UPDATE key_versions SET material = $m WHERE key_id = $id AND version = 1";
            write.Parameters.AddWithValue("$m", material);
            write.Parameters.AddWithValue("$id", keyId);
            Assert.Equal(1, await write.ExecuteNonQueryAsync());
        }

        await _node.Server.Seal.SealAsync();
        var bytes = await File.ReadAllBytesAsync(Path.Combine(_node.DataDirectory, "master.key"));
        await _node.Server.Seal.UnsealWithAsync(MasterKey.FromBytes(bytes));
        CryptographicOperations.ZeroMemory(bytes);
    }

    [Fact]
    public async Task Key_whose_stored_material_is_corrupt_answers_InternalException_and_other_keys_still_work()
    {
        var storeId = await _node.KeyStoreIdAsync("/demo");
        var keyId = await _node.CreateKeyAsync(storeId, "fragile", "ENCRYPT", "DECRYPT");
        var sealedData = await _xks.MustEncryptAsync("fragile", [1, 2, 3]);

        await CorruptMaterialAsync(keyId);

        XksAssert.Error(await _xks.EncryptAsync("fragile", [1, 2, 3]), 500, "InternalException");
        XksAssert.Error(await _xks.DecryptAsync("fragile", sealedData), 500, "InternalException");
        XksAssert.Ok(await _xks.GetKeyMetadataAsync("fragile"));
        XksAssert.Ok(await _xks.EncryptAsync(_node.Info.KeyId, [1, 2, 3]));
        Assert.Contains(_node.Logs.Lines, l => l.Contains("[1201]", StringComparison.Ordinal) && l.Contains(keyId, StringComparison.Ordinal));
        Assert.Contains(_node.Logs.Lines, l => l.Contains("[2000]", StringComparison.Ordinal) && l.Contains("error=InternalException", StringComparison.Ordinal));
    }
}
