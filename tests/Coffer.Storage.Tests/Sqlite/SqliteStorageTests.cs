using Coffer.Approvals;
using Coffer.Audit;
using Coffer.Auth;
using Coffer.Keys;
using Coffer.KeyStores;
using Coffer.Storage.Migrations;
using Coffer.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Coffer.Storage.Tests.Sqlite;

/// <summary>What is particular to the SQLite storage: the file, its pragmas and its migrations.</summary>
public sealed class SqliteStorageTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private readonly TempDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task Opening_creates_the_file_and_its_directory_in_WAL_mode()
    {
        Assert.False(File.Exists(_database.FilePath));

        using (await SqliteStorage.OpenAsync(_database.FilePath, CancellationToken.None))
        {
        }

        Assert.True(File.Exists(_database.FilePath));
        Assert.Equal("wal", await ScalarAsync<string>("PRAGMA journal_mode"));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Opening_creates_the_directory_0700_and_the_file_0600_and_SQLite_gives_the_WAL_and_shared_memory_files_the_same_mode()
    {
        // Whatever the test runner's umask; with the usual 022 SQLite alone would make them 0644.
        const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var storage = await SqliteStorage.OpenAsync(_database.FilePath, CancellationToken.None))
        {
            await storage.KeyStores.CreateKeyStoreAsync(new KeyStore("ks", "ks", UriPrefix.Empty, T0));

            Assert.Equal(OwnerOnly, File.GetUnixFileMode(_database.FilePath + "-wal"));
            Assert.Equal(OwnerOnly, File.GetUnixFileMode(_database.FilePath + "-shm"));
        }

        Assert.Equal(OwnerOnly, File.GetUnixFileMode(_database.FilePath));
        Assert.Equal(OwnerOnly | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(_database.FilePath)!));
    }

    [Fact]
    public async Task Opening_records_every_migration_once()
    {
        using (await SqliteStorage.OpenAsync(_database.FilePath, CancellationToken.None))
        {
        }

        var versions = await QueryAsync<long>("SELECT version FROM schema_migrations ORDER BY version");
        Assert.Equal(Enumerable.Range(1, Migration.Latest).Select(v => (long)v), versions);
        Assert.Equal(Migration.Latest, SqliteStorage.SchemaVersion);
    }

    [Fact]
    public async Task Opening_twice_applies_nothing_twice_and_keeps_the_data()
    {
        using (var first = await SqliteStorage.OpenAsync(_database.FilePath, CancellationToken.None))
        {
            await first.System.SetSettingAsync("kept", "yes");
        }

        var appliedAt = await QueryAsync<string>("SELECT applied_at FROM schema_migrations ORDER BY version");
        using var second = await SqliteStorage.OpenAsync(_database.FilePath, CancellationToken.None);

        Assert.Equal(appliedAt, await QueryAsync<string>("SELECT applied_at FROM schema_migrations ORDER BY version"));
        Assert.Equal("yes", await second.System.GetSettingAsync("kept"));
    }

    [Fact]
    public async Task Opening_from_several_tasks_at_once_migrates_once()
    {
        var opened = await Task.WhenAll(Enumerable.Range(0, 6).Select(
            _ => Task.Run(() => SqliteStorage.OpenAsync(_database.FilePath, CancellationToken.None))));
        try
        {
            Assert.Equal(Migration.Latest, await ScalarAsync<long>("SELECT COUNT(*) FROM schema_migrations"));
            await opened[0].KeyStores.CreateKeyStoreAsync(new KeyStore("ks", "ks", UriPrefix.Empty, T0));
            Assert.Equal(1, await opened[^1].KeyStores.CountKeyStoresAsync());
        }
        finally
        {
            foreach (var storage in opened)
            {
                storage.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_database_from_a_newer_Coffer_is_refused()
    {
        using (await SqliteStorage.OpenAsync(_database.FilePath, CancellationToken.None))
        {
        }

        var future = Migration.Latest + 1;
        await ExecuteAsync($"INSERT INTO schema_migrations (version, applied_at) VALUES ({future}, '2030-01-01T00:00:00.0000000Z')");

        var refused = await Assert.ThrowsAsync<SchemaVersionException>(() => SqliteStorage.OpenAsync(_database.FilePath, CancellationToken.None));

        Assert.Equal(future, refused.DatabaseVersion);
        Assert.Equal(Migration.Latest, refused.SupportedVersion);
        Assert.Contains("newer Coffer", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Embedded_migrations_are_numbered_from_one_without_gaps()
    {
        Assert.Equal(Enumerable.Range(1, Migration.Sqlite.Count), Migration.Sqlite.Select(m => m.Version));
        Assert.Equal("0001_initial", Migration.Sqlite[0].Name);
        Assert.All(Migration.Sqlite, m => Assert.False(string.IsNullOrWhiteSpace(m.Script)));
    }

    [Fact]
    public async Task Foreign_keys_are_enforced_on_every_pooled_connection()
    {
        using var storage = await SqliteStorage.OpenAsync(_database.FilePath, CancellationToken.None);

        // Many operations cycle through the pool; every one must still refuse an orphan key.
        for (var i = 0; i < 5; i++)
        {
            var key = new ManagedKey($"k{i}", "missing", $"e{i}", "", new Dictionary<string, string>(), KeyUsage.EncryptDecrypt, true, 1, T0);
            await Assert.ThrowsAsync<ConflictException>(
                () => storage.Keys.CreateKeyAsync(key, new KeyVersion(key.Id, 1, KeyVersionState.Active, "software", [1], T0)));
        }
    }

    [Fact]
    public async Task A_destroyed_version_leaves_no_copy_of_its_material_in_the_database_or_WAL_file()
    {
        var material = System.Security.Cryptography.RandomNumberGenerator.GetBytes(60);
        using var storage = await SqliteStorage.OpenAsync(_database.FilePath, CancellationToken.None);
        var lifecycle = await StoreAmongOthersAsync(storage, material);

        Assert.True(FilesContain(material), "the material should be in the files before destruction (else this test proves nothing)");

        Assert.True(await storage.Keys.DestroyVersionAsync("k", 1, lifecycle, T0.AddDays(7), KeyVersion.SystemActor));
        Assert.True(await storage.Keys.CompleteErasureAsync());

        Assert.False(FilesContain(material));
        Assert.Equal(0L, await ScalarAsync<long>("SELECT length(material) FROM key_versions WHERE key_id = 'k'"));
    }

    [Fact]
    public async Task A_reader_of_an_older_snapshot_holds_the_erasure_back_without_holding_up_a_writer_that_waits_one_second()
    {
        var material = System.Security.Cryptography.RandomNumberGenerator.GetBytes(60);
        using var storage = await SqliteStorage.OpenAsync(_database.FilePath, CancellationToken.None);
        var lifecycle = await StoreAmongOthersAsync(storage, material);
        var reader = await OpenRawAsync();
        await ExecuteAsync(reader, "BEGIN; SELECT COUNT(*) FROM key_versions;");

        // Writers that give up after a second, as the audit writer does, keep taking the write lock
        // while the version is destroyed and its erasure is attempted.
        using var stop = new CancellationTokenSource();
        var writes = 0;
        var writing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writer = Task.Run(async () =>
        {
            await using var connection = await OpenRawAsync(timeoutSeconds: 1);
            await ExecuteAsync(connection, "PRAGMA busy_timeout = 1000;");
            while (!stop.IsCancellationRequested)
            {
                await ExecuteAsync(connection, "BEGIN IMMEDIATE; ROLLBACK;");
                writes++;
                writing.TrySetResult();
                await Task.Delay(5);
            }
        });

        // The writer is under way before the destruction starts (else nothing overlaps).
        await writing.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var writesBefore = writes;
        Assert.True(await storage.Keys.DestroyVersionAsync("k", 1, lifecycle, T0.AddDays(7), KeyVersion.SystemActor));
        var erased = await storage.Keys.CompleteErasureAsync();
        await stop.CancelAsync();
        await writer;

        Assert.False(erased);
        Assert.True(writes > writesBefore, "the writer kept writing while the erasure was attempted");
        Assert.True(FilesContain(material), "the reader's snapshot still needs the old page");

        await ExecuteAsync(reader, "ROLLBACK");
        await reader.DisposeAsync();
        Assert.True(await storage.Keys.CompleteErasureAsync());
        Assert.False(FilesContain(material));
    }

    /// <summary>A key version holding <paramref name="material"/>, due for destruction at T0 + 7 days,
    /// among rows before and after it over several pages, so the erased row sits among live ones.</summary>
    private static async Task<VersionLifecycle> StoreAmongOthersAsync(CofferStorage storage, byte[] material)
    {
        await storage.KeyStores.CreateKeyStoreAsync(new KeyStore("ks", "ks", UriPrefix.Empty, T0));
        var key = new ManagedKey("k", "ks", "e", "", new Dictionary<string, string>(), KeyUsage.EncryptDecrypt, true, 1, T0);
        var lifecycle = new VersionLifecycle(KeyVersionState.Deactivated, DestroysAt: T0.AddDays(7));
        for (var i = 0; i < 80; i++)
        {
            var other = key with { Id = $"k{i:D2}", ExternalId = $"e{i:D2}" };
            await storage.Keys.CreateKeyAsync(other, new KeyVersion(other.Id, 1, KeyVersionState.Active, "software", System.Security.Cryptography.RandomNumberGenerator.GetBytes(60), T0));
            if (i == 40)
            {
                await storage.Keys.CreateKeyAsync(key, new KeyVersion("k", 1, KeyVersionState.Deactivated, "software", material, T0) { DestroysAt = lifecycle.DestroysAt });
            }
        }

        return lifecycle;
    }

    /// <summary>Whether the database file or its WAL holds any 8 consecutive bytes of <paramref name="material"/>
    /// anywhere, free space included: a partly overwritten copy is still a leak. (8 random bytes turn up
    /// elsewhere by chance with odds of about 2^-64 per position.)</summary>
    private bool FilesContain(byte[] material) =>
        new[] { _database.FilePath, _database.FilePath + "-wal" }
            .Where(File.Exists)
            .Any(path =>
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                var file = copy.ToArray();
                return Enumerable.Range(0, material.Length - 7).Any(i => file.AsSpan().IndexOf(material.AsSpan(i, 8)) >= 0);
            });

    [Fact]
    public async Task Times_are_stored_as_fixed_width_UTC_text()
    {
        using (var storage = await SqliteStorage.OpenAsync(_database.FilePath, CancellationToken.None))
        {
            var created = new DateTimeOffset(2025, 6, 7, 10, 0, 0, TimeSpan.FromHours(2)).AddTicks(1);
            await storage.KeyStores.CreateKeyStoreAsync(new KeyStore("ks", "ks", UriPrefix.Empty, created));
        }

        Assert.Equal("2025-06-07T08:00:00.0000001Z", await ScalarAsync<string>("SELECT created_at FROM key_stores"));
    }

    [Fact]
    public async Task Loading_all_groups_many_versions_per_key_in_version_order()
    {
        using var storage = await SqliteStorage.OpenAsync(_database.FilePath, CancellationToken.None);
        await storage.KeyStores.CreateKeyStoreAsync(new KeyStore("ks", "ks", UriPrefix.Empty, T0));
        foreach (var id in new[] { "a", "b", "c" })
        {
            var key = new ManagedKey(id, "ks", id, "", new Dictionary<string, string>(), KeyUsage.EncryptDecrypt, true, 1, T0);
            await storage.Keys.CreateKeyAsync(key, new KeyVersion(id, 1, KeyVersionState.Deactivated, "software", [1], T0));
        }

        // Written underneath the ports, which add versions one at a time in order and never leave a
        // destroyed version between two others: this is the order and mix the loader must sort out.
        await ExecuteAsync(
            "INSERT INTO key_versions (key_id, version, state, backend, material, created_at) VALUES " +
            "('a', 3, 'Active', 'software', x'03', '2025-01-03T00:00:00.0000000Z'), " +
            "('a', 2, 'Destroyed', 'software', x'02', '2025-01-02T00:00:00.0000000Z'), " +
            "('c', 2, 'Active', 'pkcs11', x'0c', '2025-01-02T00:00:00.0000000Z')");

        var all = await storage.Keys.LoadAllAsync();

        Assert.Equal(["a", "b", "c"], all.Select(e => e.Key.Id));
        Assert.Equal([1, 2, 3], all[0].Versions.Select(v => v.Version));
        Assert.Equal([KeyVersionState.Deactivated, KeyVersionState.Destroyed, KeyVersionState.Active], all[0].Versions.Select(v => v.State));
        Assert.Equal([1], all[1].Versions.Select(v => v.Version));
        Assert.Equal([1, 2], all[2].Versions.Select(v => v.Version));
        Assert.Equal(new byte[] { 0x0c }, all[2].Versions[1].Material);
        Assert.Equal([1, 2, 3], (await storage.Keys.ListVersionsAsync("a")).Select(v => v.Version));
    }

    [Fact]
    public async Task A_limit_above_a_thousand_is_lowered_to_a_thousand()
    {
        using var storage = await SqliteStorage.OpenAsync(_database.FilePath, CancellationToken.None);
        await storage.KeyStores.CreateKeyStoreAsync(new KeyStore("ks", "ks", UriPrefix.Empty, T0));
        await ExecuteAsync(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1001) " +
            "INSERT INTO keys (id, key_store_id, external_id, description, tags, usage, enabled, current_version, created_at) " +
            "SELECT printf('k%04d', i), 'ks', printf('e%04d', i), '', '{}', 3, 1, 1, '2025-01-01T00:00:00.0000000Z' FROM n");

        var first = await storage.Keys.ListKeysAsync(new KeyQuery(Limit: 5000));
        var second = await storage.Keys.ListKeysAsync(new KeyQuery(Limit: 5000, After: first.NextAfter));

        Assert.Equal(1000, first.Keys.Count);
        Assert.Equal("k1000", first.NextAfter);
        Assert.Equal("k1001", Assert.Single(second.Keys).Id);
        Assert.Null(second.NextAfter);
    }

    [Fact]
    public async Task A_key_whose_version_cannot_be_written_is_not_written_either()
    {
        using var storage = await SqliteStorage.OpenAsync(_database.FilePath, CancellationToken.None);
        await storage.KeyStores.CreateKeyStoreAsync(new KeyStore("ks", "ks", UriPrefix.Empty, T0));
        // Make the second insert of CreateKeyAsync fail after the first one succeeded.
        await ExecuteAsync(
            "CREATE TRIGGER fail_version BEFORE INSERT ON key_versions WHEN NEW.backend = 'broken' " +
            "BEGIN SELECT RAISE(ABORT, 'version refused'); END");
        var key = new ManagedKey("k", "ks", "e", "", new Dictionary<string, string>(), KeyUsage.EncryptDecrypt, true, 1, T0);

        await Assert.ThrowsAsync<SqliteException>(
            () => storage.Keys.CreateKeyAsync(key, new KeyVersion("k", 1, KeyVersionState.Active, "broken", [1], T0)));

        Assert.Null(await storage.Keys.GetKeyAsync("k"));
        Assert.Equal(0, await storage.Keys.CountKeysAsync(null));
        await storage.Keys.CreateKeyAsync(key, new KeyVersion("k", 1, KeyVersionState.Active, "software", [1], T0));
    }

    [Fact]
    public async Task Using_a_disposed_storage_throws_ObjectDisposed()
    {
        var storage = await SqliteStorage.OpenAsync(_database.FilePath, CancellationToken.None);
        storage.Dispose();
        storage.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => storage.KeyStores.CountKeyStoresAsync());
    }

    [Fact]
    public async Task Uniqueness_violations_never_surface_as_SqliteException()
    {
        using var storage = await SqliteStorage.OpenAsync(_database.FilePath, CancellationToken.None);
        await storage.KeyStores.CreateKeyStoreAsync(new KeyStore("ks", "ks", UriPrefix.Empty, T0));

        var conflict = await Assert.ThrowsAsync<ConflictException>(
            () => storage.KeyStores.CreateKeyStoreAsync(new KeyStore("ks2", "ks", UriPrefix.Parse("/b"), T0)));

        Assert.IsType<SqliteException>(conflict.InnerException);
    }

    [Fact]
    public async Task Migration_13_rewrites_approval_requesters_grants_in_the_one_grant_form()
    {
        using var storage = await SqliteStorage.OpenAsync(_database.FilePath, CancellationToken.None);
        var requester = new Caller("usr-1", CallerKinds.User, "Dana", [new RoleGrant("key-officer", "ks_a1"), new RoleGrant("auditor")], ["custodians"], "tok-1");
        await storage.Approvals.CreateRequestAsync(new ApprovalRequest(
            "apr-1", QuorumOperations.KeyDisable, "guard", 1, "custodians", "POST", "/api/v1/keys/{keyId}/disable", "/api/v1/keys/k/disable",
            new Dictionary<string, string> { ["keyId"] = "k" }, "", null, requester, "", "fp", ApprovalStates.Pending, T0, T0.AddHours(1)));
        Assert.Equal("""["key-officer@ks_a1","auditor"]""", await ScalarAsync<string>("SELECT requester_grants FROM approval_requests"));

        // As a database written before migration 13 holds it, then that migration's script.
        await ExecuteAsync("""UPDATE approval_requests SET requester_grants = '["key-officer ks_a1","auditor"]'""");
        await ExecuteAsync(Migration.Sqlite.Single(m => m.Version == 13).Script);

        Assert.Equal("""["key-officer@ks_a1","auditor"]""", await ScalarAsync<string>("SELECT requester_grants FROM approval_requests"));
        Assert.Equal(requester.Grants, (await storage.Approvals.GetRequestAsync("apr-1"))!.Requester.Grants);
    }

    [Fact]
    public async Task Migration_16_moves_every_record_into_a_batch_of_its_own_whose_bytes_are_the_hashed_ones()
    {
        var macKey = new byte[32];
        AuditEvent[] events =
        [
            new() { Action = "xks.encrypt", KeyId = "key-1", KeyVersion = 2, LatencyMs = 1.234, KmsRequestId = "req-1", AwsRegion = "eu-west-1", SourceIp = "192.0.2.1" },
            new() { Action = "key.create", Outcome = AuditOutcome.Denied, ActorKind = "user", ActorId = "ädmin 🔑", Reason = "", Details = "{\"a\":1}" },
            new() { Action = "xks.decrypt", Outcome = AuditOutcome.Error, ErrorName = "InvalidCiphertextException", KeyId = "key-1", KeyVersion = -1, LatencyMs = 0 },
        ];
        var records = new List<AuditRecord>();
        var previous = new byte[32];
        foreach (var auditEvent in events)
        {
            records.Add(AuditRecord.Create(auditEvent, records.Count + 1, T0.AddSeconds(records.Count), "node-ä", previous));
            previous = records[^1].Hash;
        }

        using (var storage = await SqliteStorage.OpenAsync(_database.FilePath, CancellationToken.None))
        {
            await storage.Audit.AppendAsync([records[0]], null);
            await storage.Audit.AppendAsync(records[1..], AuditCheckpointMac.Create(macKey, 3, previous, T0));
        }

        // As a database written before migration 16 holds them (one row per record, 0015_audit_seq_rowid.sql),
        // then that migration's script.
        await ExecuteAsync(
            "DROP TABLE audit_batches; DROP TABLE audit_batch_keys;" +
            "CREATE TABLE audit_records (seq INTEGER PRIMARY KEY, time TEXT NOT NULL, node TEXT NOT NULL, action TEXT NOT NULL," +
            " outcome TEXT NOT NULL, error_name TEXT NULL, reason TEXT NULL, actor_kind TEXT NULL, actor_id TEXT NULL, key_store TEXT NULL," +
            " key_id TEXT NULL, key_version INTEGER NULL, latency_us BIGINT NULL, source_ip TEXT NULL, kms_request_id TEXT NULL," +
            " aws_principal_arn TEXT NULL, kms_key_arn TEXT NULL, aws_account TEXT NULL, aws_region TEXT NULL, kms_operation TEXT NULL," +
            " kms_via_service TEXT NULL, aws_source_vpc TEXT NULL, aws_source_vpce TEXT NULL, details TEXT NULL, prev_hash BLOB NOT NULL," +
            " hash BLOB NOT NULL);" +
            "CREATE INDEX ix_audit_records_time ON audit_records (time); CREATE INDEX ix_audit_records_key ON audit_records (key_id);");
        foreach (var r in records)
        {
            await ExecuteAsync(OldRowInsert(r));
        }

        await ExecuteAsync(Migration.Sqlite.Single(m => m.Version == 16).Script);
        // and the later one that changes audit_batches: its batches then say they may hold any outcome.
        await ExecuteAsync(Migration.Sqlite.Single(m => m.Version == 22).Script);

        using var migrated = await SqliteStorage.OpenAsync(_database.FilePath, CancellationToken.None);
        var chain = await migrated.Audit.ReadChainAsync(1, 10);
        Assert.Equal(records.Select(r => (r.Sequence, r.Time, r.Node, Convert.ToHexString(r.PrevHash), Convert.ToHexString(r.Hash), r.Event)),
            chain.Records.Select(r => (r.Sequence, r.Time, r.Node, Convert.ToHexString(r.PrevHash), Convert.ToHexString(r.Hash), r.Event)));
        Assert.All(chain.Records, r => Assert.Equal(Convert.ToHexString(r.Hash), Convert.ToHexString(r.ComputeHash())));
        Assert.Equal(3, await ScalarAsync<long>("SELECT COUNT(*) FROM audit_batches"));
        Assert.Equal(3, Assert.Single(chain.Checkpoints).Sequence);
        var byKey = await migrated.Audit.QueryAsync(new AuditQuery { KeyId = "key-1", Limit = 10 });
        Assert.Equal([3L, 1L], byKey.Records.Select(r => r.Sequence));
        var refused = await migrated.Audit.QueryAsync(new AuditQuery { Outcome = AuditOutcome.Denied, Limit = 10 });
        Assert.Equal(2, Assert.Single(refused.Records).Sequence);

        var next = AuditRecord.Create(new AuditEvent { Action = "xks.decrypt" }, 4, T0.AddSeconds(4), "node-a", previous);
        await migrated.Audit.AppendAsync([next], null);
        Assert.Equal(4, (await migrated.Audit.GetHeadAsync()).Sequence);
    }

    // One record as an INSERT into the pre-16 table (values as SQL literals: text in hex, so any
    // character goes in unchanged).
    private static string OldRowInsert(AuditRecord r)
    {
        static string Text(string? s) => s is null ? "NULL" : $"CAST(X'{Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(s))}' AS TEXT)";
        static string Number(long? v) => v is { } n ? n.ToString(System.Globalization.CultureInfo.InvariantCulture) : "NULL";
        var e = r.Event;
        string[] values =
        [
            Number(r.Sequence), Text(DbValues.Time(r.Time)), Text(r.Node), Text(e.Action), Text(AuditOutcomes.ToText(e.Outcome)), Text(e.ErrorName),
            Text(e.Reason), Text(e.ActorKind), Text(e.ActorId), Text(e.KeyStore), Text(e.KeyId), Number(e.KeyVersion),
            Number(e.LatencyMs is { } ms ? AuditCanonical.LatencyMicroseconds(ms) : null), Text(e.SourceIp), Text(e.KmsRequestId),
            Text(e.AwsPrincipalArn), Text(e.KmsKeyArn), Text(e.AwsAccount), Text(e.AwsRegion), Text(e.KmsOperation), Text(e.KmsViaService),
            Text(e.AwsSourceVpc), Text(e.AwsSourceVpce), Text(e.Details), $"X'{Convert.ToHexString(r.PrevHash)}'", $"X'{Convert.ToHexString(r.Hash)}'",
        ];
        return $"INSERT INTO audit_records VALUES ({string.Join(", ", values)})";
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = await OpenRawAsync();
        using var command = connection.CreateCommand();
#pragma warning disable CA2100 // Test-only SQL written in this file.
        command.CommandText = sql;
#pragma warning restore CA2100
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private async Task<List<T>> QueryAsync<T>(string sql)
    {
        await using var connection = await OpenRawAsync();
        using var command = connection.CreateCommand();
#pragma warning disable CA2100 // Test-only SQL written in this file.
        command.CommandText = sql;
#pragma warning restore CA2100
        var values = new List<T>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetFieldValue<T>(0));
        }

        return values;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = await OpenRawAsync();
        await ExecuteAsync(connection, sql);
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
#pragma warning disable CA2100 // Test-only SQL written in this file.
        command.CommandText = sql;
#pragma warning restore CA2100
        await command.ExecuteNonQueryAsync();
    }

    /// <param name="timeoutSeconds">Microsoft.Data.Sqlite's own retry on a busy database.</param>
    private async Task<SqliteConnection> OpenRawAsync(int timeoutSeconds = 30)
    {
        // Not pooled, so nothing of the test's own connections lingers in the storage's pool.
        var connection = new SqliteConnection($"Data Source={_database.FilePath};Pooling=False;Default Timeout={timeoutSeconds}");
        await connection.OpenAsync();
        return connection;
    }
}
