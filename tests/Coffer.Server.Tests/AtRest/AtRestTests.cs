using System.Net;
using System.Security.Cryptography;
using System.Text;
using Coffer.Crypto;
using Coffer.Server.Tests.Management;
using Coffer.Server.Tests.Tls;
using Coffer.Testing;
using Microsoft.Data.Sqlite;

namespace Coffer.Server.Tests.AtRest;

/// <summary>
/// What a reader of the data directory learns (docs/style.md practice 3, "storage is untrusted";
/// docs/formats.md, "Sealed data"): no SigV4 secret or bearer token in the SQLite file or its WAL,
/// key material only sealed under the master key, and tampered rows never served.
/// </summary>
public sealed class AtRestTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("coffer-atrest-").FullName;

    private string DatabasePath => Path.Combine(_directory, "coffer.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task SigV4_secrets_and_the_admin_token_never_appear_in_the_database_or_its_WAL()
    {
        var node = await DevServer.StartAsync(dataDirectory: _directory);
        var secrets = new List<string> { node.Info.SecretAccessKey };
        var store = (string)(await node.Admin.CreateKeyStoreAsync())["id"]!;
        for (var i = 0; i < 3; i++)
        {
            var credential = await node.Admin.AddCredentialAsync(store);
            secrets.Add((string)credential["secretAccessKey"]!);
            // Reading the console file opens the secret; that must not write it anywhere either.
            await node.Admin.GetJsonAsync($"/api/v1/keystores/{store}/credentials/{credential["id"]}/aws-config");
        }

        for (var i = 0; i < 5; i++)
        {
            await node.Admin.CreateKeyAsync(store, new { name = $"k{i}" });
        }

        var needles = Needles(secrets, node.Info.AdminToken, await File.ReadAllBytesAsync(Path.Combine(_directory, "master.key")));

        // While running, the newest pages may sit in the WAL.
        var walWhileRunning = ReadShared(DatabasePath + "-wal");
        Assert.NotNull(walWhileRunning);
        AssertAbsent(needles, ReadShared(DatabasePath)!, "coffer.db (running)");
        AssertAbsent(needles, walWhileRunning, "coffer.db-wal (running)");

        await node.DisposeAsync();
        AssertAbsent(needles, await File.ReadAllBytesAsync(DatabasePath), "coffer.db (stopped)");
        if (ReadShared(DatabasePath + "-wal") is { } wal)
        {
            AssertAbsent(needles, wal, "coffer.db-wal (stopped)");
        }

        // Control: the search finds what is really in the file.
        Assert.True(Contains(await File.ReadAllBytesAsync(DatabasePath), Encoding.UTF8.GetBytes(node.Info.AccessKeyId)));
    }

    [Fact]
    public async Task Key_material_is_sealed_61_bytes_that_open_only_under_this_master_key_and_context()
    {
        var node = await DevServer.StartAsync(dataDirectory: _directory);
        var store = (string)(await node.Admin.CreateKeyStoreAsync())["id"]!;
        await node.Admin.CreateKeyAsync(store, new { name = "a" });
        await node.Admin.CreateKeyAsync(store, new { name = "b" });
        await node.DisposeAsync();

        using var master = MasterKey.FromBytes(await File.ReadAllBytesAsync(Path.Combine(_directory, "master.key")));
        using var other = MasterKey.Generate();
        var versions = await QueryAsync("SELECT key_id, version, material FROM key_versions", r => (Key: r.GetString(0), Version: r.GetInt32(1), Material: (byte[])r[2]));
        Assert.Equal(3, versions.Count); // demo-key, a, b
        var opened = new List<byte[]>();
        foreach (var (key, version, material) in versions)
        {
            Assert.Equal(61, material.Length);
            Assert.Equal(0x01, material[0]);
            var context = $"{key}/v{version}";
            var raw = master.Open(SealPurpose.KeyMaterial, context, material);
            Assert.Equal(32, raw.Length);
            opened.Add(raw);
            Assert.False(Contains(material, raw), "the raw key is inside its sealed form");
            Assert.Throws<CryptoException>(() => other.Open(SealPurpose.KeyMaterial, context, material));
            Assert.Throws<CryptoException>(() => master.Open(SealPurpose.KeyMaterial, $"{key}/v{version + 1}", material));
            Assert.Throws<CryptoException>(() => master.Open(SealPurpose.SigV4Secret, context, material));
        }

        Assert.Equal(3, opened.Select(Convert.ToHexString).Distinct().Count());
        var file = await File.ReadAllBytesAsync(DatabasePath);
        Assert.All(opened, raw => Assert.False(Contains(file, raw), "raw key material in coffer.db"));
    }

    [Fact]
    public async Task Sealed_SigV4_secret_opens_only_under_this_master_key_to_the_secret_shown_once()
    {
        var node = await DevServer.StartAsync(dataDirectory: _directory);
        var info = node.Info;
        await node.DisposeAsync();

        using var master = MasterKey.FromBytes(await File.ReadAllBytesAsync(Path.Combine(_directory, "master.key")));
        using var other = MasterKey.Generate();
        var (id, sealedSecret) = (await QueryAsync("SELECT id, sealed_secret FROM credentials WHERE access_key_id = $akid",
            r => (r.GetString(0), (byte[])r[1]), ("$akid", info.AccessKeyId))).Single();

        Assert.Equal(0x01, sealedSecret[0]);
        Assert.Equal(MasterKey.SealOverhead + Encoding.UTF8.GetByteCount(info.SecretAccessKey), sealedSecret.Length);
        // docs/formats.md: the context of a sigv4-secret is the access key id.
        Assert.Equal(info.SecretAccessKey, Encoding.UTF8.GetString(master.Open(SealPurpose.SigV4Secret, info.AccessKeyId, sealedSecret)));
        Assert.Throws<CryptoException>(() => other.Open(SealPurpose.SigV4Secret, info.AccessKeyId, sealedSecret));
        Assert.Throws<CryptoException>(() => master.Open(SealPurpose.SigV4Secret, id, sealedSecret));
    }

    [Fact]
    public async Task Api_tokens_table_holds_the_32_byte_SHA_256_of_the_token_not_the_token()
    {
        var node = await DevServer.StartAsync(dataDirectory: _directory);
        var token = node.Info.AdminToken;
        await node.DisposeAsync();

        var rows = await QueryAsync("SELECT hash, role, name, id FROM api_tokens", r => (Hash: (byte[])r[0], Text: $"{r[1]} {r[2]} {r[3]}"));
        var row = Assert.Single(rows);
        Assert.Equal(32, row.Hash.Length);
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(token)), row.Hash);
        Assert.DoesNotContain(token, row.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tampered_sealed_secret_makes_that_credential_unusable_and_the_rest_serve()
    {
        var node = await DevServer.StartAsync(dataDirectory: _directory);
        var store = await node.Admin.CreateKeyStoreAsync();
        var storeId = (string)store["id"]!;
        await node.Admin.CreateKeyAsync(storeId, new { name = "k" });
        var tampered = await node.Admin.AddCredentialAsync(storeId);
        var intact = await node.Admin.AddCredentialAsync(storeId);
        await node.DisposeAsync();
        await FlipByteAsync("credentials", "sealed_secret", "id", (string)tampered["id"]!, offset: 20);

        await using var restarted = await DevServer.StartAsync(dataDirectory: _directory);
        Assert.False(restarted.Server.IsSealed);
        Assert.Contains(restarted.Logs.Lines, l => l.Contains("[1200]", StringComparison.Ordinal) && l.Contains((string)tampered["id"]!, StringComparison.Ordinal));
        var url = Url(restarted, store, "k", "metadata");
        var rejected = await Curl.XksAsync(url, (string)tampered["accessKeyId"]!, (string)tampered["secretAccessKey"]!, Curl.MetadataBody());
        Assert.Equal(401, rejected.HttpStatus);
        var accepted = await Curl.XksAsync(url, (string)intact["accessKeyId"]!, (string)intact["secretAccessKey"]!, Curl.MetadataBody());
        Assert.Equal(200, accepted.HttpStatus);

        // The console file of the tampered credential cannot be produced; nothing of it leaks.
        using var config = await restarted.Admin.GetAsync($"/api/v1/keystores/{storeId}/credentials/{tampered["id"]}/aws-config");
        Assert.NotEqual(HttpStatusCode.OK, config.StatusCode);
        Assert.Equal(ManagementApi.ProblemContentType, config.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain((string)tampered["secretAccessKey"]!, await config.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tampered_key_material_makes_that_key_unusable_and_the_rest_serve()
    {
        var node = await DevServer.StartAsync(dataDirectory: _directory);
        var store = await node.Admin.CreateKeyStoreAsync();
        var storeId = (string)store["id"]!;
        var credential = await node.Admin.AddCredentialAsync(storeId);
        var tampered = (string)(await node.Admin.CreateKeyAsync(storeId, new { name = "tampered" }))["id"]!;
        await node.Admin.CreateKeyAsync(storeId, new { name = "intact" });
        await node.DisposeAsync();
        await FlipByteAsync("key_versions", "material", "key_id", tampered, offset: 30);

        await using var restarted = await DevServer.StartAsync(dataDirectory: _directory);
        Assert.Contains(restarted.Logs.Lines, l => l.Contains("[1201]", StringComparison.Ordinal) && l.Contains(tampered, StringComparison.Ordinal));
        var broken = await EncryptAsync(restarted, store, credential, "tampered");
        Assert.Equal(500, broken.HttpStatus);
        Assert.Contains("InternalException", broken.Body, StringComparison.Ordinal);
        var fine = await EncryptAsync(restarted, store, credential, "intact");
        Assert.True(fine.HttpStatus == 200, fine.ToString());
    }

    [Fact]
    public async Task Key_material_moved_to_another_key_does_not_open_there()
    {
        // The AAD binds material to key id and version (docs/formats.md), so a copied blob does not open.
        var node = await DevServer.StartAsync(dataDirectory: _directory);
        var store = await node.Admin.CreateKeyStoreAsync();
        var storeId = (string)store["id"]!;
        var credential = await node.Admin.AddCredentialAsync(storeId);
        var source = (string)(await node.Admin.CreateKeyAsync(storeId, new { name = "source" }))["id"]!;
        var target = (string)(await node.Admin.CreateKeyAsync(storeId, new { name = "target" }))["id"]!;
        await node.DisposeAsync();
        await ExecuteAsync("UPDATE key_versions SET material = (SELECT material FROM key_versions WHERE key_id = $source) WHERE key_id = $target",
            ("$source", source), ("$target", target));

        await using var restarted = await DevServer.StartAsync(dataDirectory: _directory);
        Assert.Contains(restarted.Logs.Lines, l => l.Contains("[1201]", StringComparison.Ordinal) && l.Contains(target, StringComparison.Ordinal));
        Assert.Equal(500, (await EncryptAsync(restarted, store, credential, "target")).HttpStatus);
        Assert.Equal(200, (await EncryptAsync(restarted, store, credential, "source")).HttpStatus);
    }

    [Fact]
    public async Task Key_material_tampered_while_running_is_ignored_until_restart_then_the_key_is_unusable()
    {
        var node = await DevServer.StartAsync(dataDirectory: _directory);
        var store = await node.Admin.CreateKeyStoreAsync();
        var storeId = (string)store["id"]!;
        var credential = await node.Admin.AddCredentialAsync(storeId);
        var key = (string)(await node.Admin.CreateKeyAsync(storeId, new { name = "live" }))["id"]!;
        var before = await EncryptAsync(node, store, credential, "live");
        Assert.Equal(200, before.HttpStatus);
        await FlipByteAsync("key_versions", "material", "key_id", key, offset: 30);

        // A change reloads the key ring from storage; material already opened is kept, not re-read.
        await node.Admin.CreateKeyStoreAsync();
        var decrypted = await Curl.XksAsync(Url(node, store, "live", "decrypt"), (string)credential["accessKeyId"]!, (string)credential["secretAccessKey"]!,
            DecryptBody(System.Text.Json.Nodes.JsonNode.Parse(before.Body)!));
        Assert.True(decrypted.HttpStatus == 200, decrypted.ToString());
        Assert.Equal(Plaintext, (string?)System.Text.Json.Nodes.JsonNode.Parse(decrypted.Body)!["plaintext"]);
        await node.DisposeAsync();

        await using var restarted = await DevServer.StartAsync(dataDirectory: _directory);
        Assert.Equal(500, (await EncryptAsync(restarted, store, credential, "live")).HttpStatus);
    }

    private const string Plaintext = "Y29mZmVyIGF0LXJlc3QgdGVzdCBwbGFpbnRleHQ="; // "coffer at-rest test plaintext"

    private static string Url(DevServer node, System.Text.Json.Nodes.JsonNode store, string key, string operation) =>
        node.XksUrl.ToString().TrimEnd('/') + (string)store["xksProxyUriPath"]! + $"/keys/{key}/{operation}";

    private static string RequestMetadata(string operation) =>
        "\"requestMetadata\":{\"awsPrincipalArn\":\"arn:aws:iam::111122223333:role/coffer-test\",\"kmsKeyArn\":\"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\"," +
        $"\"kmsOperation\":\"{operation}\",\"kmsRequestId\":\"{Guid.NewGuid()}\"}}";

    private static Task<Curl.Result> EncryptAsync(DevServer node, System.Text.Json.Nodes.JsonNode store, System.Text.Json.Nodes.JsonNode credential, string key) =>
        Curl.XksAsync(Url(node, store, key, "encrypt"), (string)credential["accessKeyId"]!, (string)credential["secretAccessKey"]!,
            "{" + RequestMetadata("Encrypt") + ",\"plaintext\":\"" + Plaintext + "\",\"encryptionAlgorithm\":\"AES_GCM\"}");

    private static string DecryptBody(System.Text.Json.Nodes.JsonNode encrypted) =>
        "{" + RequestMetadata("Decrypt") + $",\"ciphertext\":\"{encrypted["ciphertext"]}\",\"initializationVector\":\"{encrypted["initializationVector"]}\"," +
        $"\"authenticationTag\":\"{encrypted["authenticationTag"]}\",\"ciphertextMetadata\":\"{encrypted["ciphertextMetadata"]}\",\"encryptionAlgorithm\":\"AES_GCM\"}}";

    private static List<(string Name, byte[] Bytes)> Needles(IEnumerable<string> secrets, string token, byte[] masterKey)
    {
        var needles = new List<(string, byte[])>();
        foreach (var secret in secrets)
        {
            needles.Add(("secret (UTF-8)", Encoding.UTF8.GetBytes(secret)));
            needles.Add(("secret (UTF-16)", Encoding.Unicode.GetBytes(secret)));
            needles.Add(("secret (base64 of UTF-8)", Encoding.ASCII.GetBytes(Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)))));
            needles.Add(("secret (decoded bytes)", Convert.FromBase64String(secret)));
            needles.Add(("secret (hex)", Encoding.ASCII.GetBytes(Convert.ToHexStringLower(Encoding.UTF8.GetBytes(secret)))));
        }

        needles.Add(("admin token (UTF-8)", Encoding.UTF8.GetBytes(token)));
        needles.Add(("admin token (UTF-16)", Encoding.Unicode.GetBytes(token)));
        needles.Add(("admin token without prefix", Encoding.UTF8.GetBytes(token["coffer_".Length..])));
        needles.Add(("admin token (decoded bytes)", Base64UrlDecode(token["coffer_".Length..])));
        needles.Add(("master key", masterKey));
        return needles;
    }

    private static byte[] Base64UrlDecode(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded.PadRight(padded.Length + ((4 - (padded.Length % 4)) % 4), '='));
    }

    private static void AssertAbsent(List<(string Name, byte[] Bytes)> needles, byte[] haystack, string where)
    {
        Assert.True(haystack.Length > 0, where + " is empty");
        foreach (var (name, bytes) in needles)
        {
            Assert.False(Contains(haystack, bytes), $"{name} found in {where}");
        }
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    private static byte[]? ReadShared(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False;Default Timeout=10");
        connection.Open();
        return connection;
    }

    private async Task<List<T>> QueryAsync<T>(string sql, Func<SqliteDataReader, T> read, params (string Name, object Value)[] parameters)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    private async Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    /// <summary>Flips one byte of a blob with SQL; returns the original blob.</summary>
    private async Task<byte[]> FlipByteAsync(string table, string column, string keyColumn, string key, int offset)
    {
        var original = (await QueryAsync($"SELECT {column} FROM {table} WHERE {keyColumn} = $key", r => (byte[])r[0], ("$key", key))).Single();
        var changed = (byte[])original.Clone();
        changed[offset] ^= 0x01;
        await ExecuteAsync($"UPDATE {table} SET {column} = $value WHERE {keyColumn} = $key", ("$value", changed), ("$key", key));
        return original;
    }

}
