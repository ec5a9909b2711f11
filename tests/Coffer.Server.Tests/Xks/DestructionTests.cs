using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Coffer.Hsm;
using Coffer.KeyStores;
using Coffer.Server.Tests.Hsm;
using Coffer.Storage.Sqlite;
using Coffer.Testing;
using Microsoft.Extensions.Time.Testing;

// The concrete classes run the suite once per backend, as Backends.cs does for the other XKS suites.
namespace Coffer.Server.Tests.Xks
{
    /// <summary>
    /// Destruction that really destroys: when a waiting period ends the destruction sweeper
    /// destroys the material — the wrapped bytes erased from the SQLite file, or the HSM object gone from
    /// the token — and XKS answers as the spec says (InvalidCiphertextException for a destroyed version's
    /// ciphertext, KeyNotFoundException for a destroyed key). Time is a <see cref="FakeTimeProvider"/>; the
    /// sweeper runs on it, and the tests wait for its pass at an instant instead of sleeping.
    /// </summary>
    public abstract class DestructionTests(string backend)
    {
        private static readonly DateTimeOffset Start = new(2026, 11, 28, 8, 0, 0, TimeSpan.Zero);

        protected FakeTimeProvider Time { get; } = new(Start);

        protected XksClient Client(DevServer node) => XksClient.For(node) with { SigningTime = Time.GetUtcNow() };

        protected Task<DevServer> StartAsync() => DevServer.StartAsync(time: Time, backend: backend);

        /// <summary>Moves the clock on and waits for the sweeper's pass at the new instant (it looks once per
        /// <see cref="Lifecycle.DestructionSweeper.Interval"/>, so steps are at least that long).</summary>
        protected async Task AdvanceAndSweepAsync(DevServer node, TimeSpan by)
        {
            Time.Advance(by);
            await node.Server.Destruction.SweptAsync(Time.GetUtcNow()).WaitAsync(TimeSpan.FromSeconds(60));
        }

        protected static async Task<JsonNode> PostAsync(DevServer node, string path, object? body = null, HttpStatusCode expected = HttpStatusCode.OK)
        {
            using var response = body is null ? await node.Admin.PostAsync(path, null) : await node.Admin.PostAsJsonAsync(path, body);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(expected == response.StatusCode, $"{path}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
            return JsonNode.Parse(text)!;
        }

        protected static JsonNode Version(JsonNode key, int version) => key["versions"]!.AsArray().Single(v => (int)v!["version"]! == version)!;

        protected static async Task<byte[]> StoredMaterialAsync(DevServer node, string keyId, int version)
        {
            using var storage = await SqliteStorage.OpenAsync(Path.Combine(node.DataDirectory, "coffer.db"));
            return (await storage.Keys.ListVersionsAsync(keyId)).Single(v => v.Version == version).Material;
        }

        /// <summary>Whether the material is still there: any part of the wrapped bytes in the database or
        /// WAL file (software), or the object in the token (pkcs11).</summary>
        protected bool MaterialExists(DevServer node, string keyId, int version, byte[] stored)
        {
            if (backend == KeyStoreBackends.Pkcs11)
            {
                var label = $"coffer:{keyId}:v{version}";
                return node.Server.Seal.Pkcs11Token().Run(session => Pkcs11Objects.FindSecretKeys(session, label, null).Count) > 0;
            }

            return new[] { "coffer.db", "coffer.db-wal" }
                .Select(file => Path.Combine(node.DataDirectory, file))
                .Where(File.Exists)
                .Any(path =>
                {
                    using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                    using var copy = new MemoryStream();
                    stream.CopyTo(copy);
                    // Any 8 consecutive bytes: a partly overwritten copy is still a leak.
                    var file = copy.ToArray();
                    return Enumerable.Range(0, stored.Length - 7).Any(i => file.AsSpan().IndexOf(stored.AsSpan(i, 8)) >= 0);
                });
        }

        /// <summary>Every audit record about the key, as the API lists them.</summary>
        protected static async Task<JsonArray> AuditRecordsAsync(DevServer node, string keyId) =>
            (await node.Admin.GetFromJsonAsync<JsonNode>($"/api/v1/audit/records?keyId={keyId}&limit=1000"))!["records"]!.AsArray();

        protected static void AssertNoMaterialIn(JsonArray records, params byte[][] materials)
        {
            var text = records.ToJsonString();
            foreach (var material in materials)
            {
                Assert.DoesNotContain(Convert.ToBase64String(material), text, StringComparison.Ordinal);
                Assert.DoesNotContain(Convert.ToHexString(material), text, StringComparison.OrdinalIgnoreCase);
            }
        }

        [Fact]
        public async Task A_version_is_destroyed_when_its_waiting_period_ends_and_not_before_and_its_ciphertext_is_then_invalid()
        {
            await using var node = await StartAsync();
            var name = Admin.Unique("vdestroy");
            var id = await node.CreateKeyAsync(await node.KeyStoreIdAsync(node.Info.UriPrefix), name, "ENCRYPT", "DECRYPT");
            var v1 = await Client(node).MustEncryptAsync(name, [1]);
            await PostAsync(node, $"/api/v1/keys/{id}/rotate");
            var v2 = await Client(node).MustEncryptAsync(name, [2]);
            var material = await StoredMaterialAsync(node, id, 1);
            Assert.True(MaterialExists(node, id, 1, material));

            await PostAsync(node, $"/api/v1/keys/{id}/versions/1/schedule-destruction", new { waitingPeriodDays = 7 });
            await AdvanceAndSweepAsync(node, TimeSpan.FromDays(7) - Lifecycle.DestructionSweeper.Interval);

            // Not before: still only scheduled, and cancelling brings it back whole.
            Assert.Equal("Deactivated", (string?)Version((await node.Admin.GetFromJsonAsync<JsonNode>($"/api/v1/keys/{id}"))!, 1)["state"]);
            Assert.True(MaterialExists(node, id, 1, material));
            XksAssert.Error(await Client(node).DecryptAsync(name, v1), 400, "InvalidCiphertextException");
            await PostAsync(node, $"/api/v1/keys/{id}/versions/1/cancel-destruction");
            Assert.Equal([1], (await Client(node).DecryptAsync(name, v1)).Bytes("plaintext"));

            await PostAsync(node, $"/api/v1/keys/{id}/versions/1/schedule-destruction", new { waitingPeriodDays = 7 });
            await AdvanceAndSweepAsync(node, TimeSpan.FromDays(7));

            var key = await node.Admin.GetFromJsonAsync<JsonNode>($"/api/v1/keys/{id}");
            Assert.Equal("Destroyed", (string?)Version(key!, 1)["state"]);
            Assert.Equal("system", (string?)Version(key!, 1)["stateChangedBy"]);
            Assert.False(MaterialExists(node, id, 1, material));
            Assert.Empty(await StoredMaterialAsync(node, id, 1));
            XksAssert.Error(await Client(node).DecryptAsync(name, v1), 400, "InvalidCiphertextException");
            Assert.Equal([2], (await Client(node).DecryptAsync(name, v2)).Bytes("plaintext"));
            Assert.Equal([3], (await Client(node).DecryptAsync(name, await Client(node).MustEncryptAsync(name, [3]))).Bytes("plaintext"));
            await PostAsync(node, $"/api/v1/keys/{id}/versions/1/cancel-destruction", expected: HttpStatusCode.Conflict);

            var records = await AuditRecordsAsync(node, id);
            var destroy = records.Where(r => (string?)r!["action"] == "key.version.destroy").ToList();
            Assert.Equal(["ok", "requested"], destroy.Select(r => (string?)r!["outcome"]));
            Assert.All(destroy, r => Assert.Equal(("system", 1), ((string?)r!["actorKind"], (int?)r["keyVersion"])));
            AssertNoMaterialIn(records, material);
        }

        [Fact]
        public async Task A_key_waiting_for_destruction_serves_nothing_cancel_restores_it_and_once_destroyed_it_is_not_found_for_good()
        {
            await using var node = await StartAsync();
            var storeId = await node.KeyStoreIdAsync(node.Info.UriPrefix);
            var name = Admin.Unique("kdestroy");
            var id = await node.CreateKeyAsync(storeId, name, "ENCRYPT", "DECRYPT");
            var v1 = await Client(node).MustEncryptAsync(name, [1]);
            await PostAsync(node, $"/api/v1/keys/{id}/rotate");
            var materials = new[] { await StoredMaterialAsync(node, id, 1), await StoredMaterialAsync(node, id, 2) };

            var scheduled = await PostAsync(node, $"/api/v1/keys/{id}/schedule-destruction", new { waitingPeriodDays = 10 });
            Assert.Equal("pending-destruction", (string?)scheduled["status"]);
            Assert.Equal(Time.GetUtcNow().AddDays(10), (DateTimeOffset)scheduled["destroysAt"]!);
            XksAssert.Error(await Client(node).GetKeyMetadataAsync(name), 400, "InvalidStateException");
            XksAssert.Error(await Client(node).EncryptAsync(name, [1]), 400, "InvalidStateException");
            XksAssert.Error(await Client(node).DecryptAsync(name, v1), 400, "InvalidStateException");
            await PostAsync(node, $"/api/v1/keys/{id}/rotate", expected: HttpStatusCode.Conflict);

            Assert.Equal("enabled", (string?)(await PostAsync(node, $"/api/v1/keys/{id}/cancel-destruction"))["status"]);
            Assert.Equal("ENABLED", XksAssert.Ok(await Client(node).GetKeyMetadataAsync(name)).GetProperty("keyStatus").GetString());
            Assert.Equal([1], (await Client(node).DecryptAsync(name, v1)).Bytes("plaintext"));

            await PostAsync(node, $"/api/v1/keys/{id}/schedule-destruction", new { waitingPeriodDays = 7 });
            await AdvanceAndSweepAsync(node, TimeSpan.FromDays(7) - Lifecycle.DestructionSweeper.Interval);
            XksAssert.Error(await Client(node).GetKeyMetadataAsync(name), 400, "InvalidStateException");
            Assert.All(materials.Select((m, i) => MaterialExists(node, id, i + 1, m)), Assert.True);
            await AdvanceAndSweepAsync(node, Lifecycle.DestructionSweeper.Interval);

            XksAssert.Error(await Client(node).GetKeyMetadataAsync(name), 404, "KeyNotFoundException");
            XksAssert.Error(await Client(node).EncryptAsync(name, [1]), 404, "KeyNotFoundException");
            XksAssert.Error(await Client(node).DecryptAsync(name, v1), 404, "KeyNotFoundException");
            var tombstone = await node.Admin.GetFromJsonAsync<JsonNode>($"/api/v1/keys/{id}");
            Assert.Equal("destroyed", (string?)tombstone!["status"]);
            Assert.Equal(Time.GetUtcNow(), (DateTimeOffset)tombstone["destroyedAt"]!);
            Assert.All(tombstone["versions"]!.AsArray(), v => Assert.Equal("Destroyed", (string?)v!["state"]));
            Assert.All(materials.Select((m, i) => MaterialExists(node, id, i + 1, m)), Assert.False);

            // A tombstone: nothing brings it back, and its name cannot be given to new material.
            await PostAsync(node, $"/api/v1/keys/{id}/cancel-destruction", expected: HttpStatusCode.Conflict);
            await PostAsync(node, $"/api/v1/keys/{id}/schedule-destruction", expected: HttpStatusCode.Conflict);
            await PostAsync(node, $"/api/v1/keys/{id}/enable", expected: HttpStatusCode.Conflict);
            await PostAsync(node, $"/api/v1/keys/{id}/rotate", expected: HttpStatusCode.Conflict);
            await PostAsync(node, $"/api/v1/keystores/{storeId}/keys", new { name }, HttpStatusCode.Conflict);
            XksAssert.Error(await Client(node).GetKeyMetadataAsync(name), 404, "KeyNotFoundException");

            var records = await AuditRecordsAsync(node, id);
            Assert.Equal(["ok", "requested"], records.Where(r => (string?)r!["action"] == "key.destroy").Select(r => (string?)r!["outcome"]));
            Assert.Equal(4, records.Count(r => (string?)r!["action"] == "key.version.destroy" && (string?)r["actorKind"] == "system"));
            Assert.Contains(records, r => (string?)r!["action"] == "key.schedule-destruction" && (string?)r["outcome"] == "ok");
            Assert.Contains(records, r => (string?)r!["action"] == "key.cancel-destruction" && (string?)r["outcome"] == "ok");
            AssertNoMaterialIn(records, materials);
        }

        [Fact]
        public async Task Without_an_audit_record_nothing_is_destroyed_and_the_next_sweep_retries()
        {
            await using var node = await StartAsync();
            var name = Admin.Unique("unaudited");
            var id = await node.CreateKeyAsync(await node.KeyStoreIdAsync(node.Info.UriPrefix), name, "ENCRYPT", "DECRYPT");
            await PostAsync(node, $"/api/v1/keys/{id}/rotate");
            var material = await StoredMaterialAsync(node, id, 1);
            await PostAsync(node, $"/api/v1/keys/{id}/versions/1/schedule-destruction", new { waitingPeriodDays = 7 });

            // The audit store is locked (as in AuditFaultTests): the sweeper's first record cannot be written.
            await using (var locker = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(node.DataDirectory, "coffer.db")};Pooling=False"))
            {
                await locker.OpenAsync();
                await using (var exclusive = locker.CreateCommand())
                {
                    exclusive.CommandText = "BEGIN EXCLUSIVE";
                    await exclusive.ExecuteNonQueryAsync();
                }

                await AdvanceAndSweepAsync(node, TimeSpan.FromDays(8));
                await using var rollback = locker.CreateCommand();
                rollback.CommandText = "ROLLBACK";
                await rollback.ExecuteNonQueryAsync();
            }

            Assert.True(MaterialExists(node, id, 1, material));
            Assert.Equal("Deactivated", (string?)Version((await node.Admin.GetFromJsonAsync<JsonNode>($"/api/v1/keys/{id}"))!, 1)["state"]);
            Assert.Contains(node.Logs.Lines, l => l.Contains("[6504]", StringComparison.Ordinal));

            await AdvanceAndSweepAsync(node, Lifecycle.DestructionSweeper.Interval);

            Assert.False(MaterialExists(node, id, 1, material));
            Assert.Equal("Destroyed", (string?)Version((await node.Admin.GetFromJsonAsync<JsonNode>($"/api/v1/keys/{id}"))!, 1)["state"]);
        }

        [Fact]
        public async Task Nothing_is_destroyed_while_sealed_and_the_sweep_after_unsealing_catches_up()
        {
            var node = await StartAsync();
            try
            {
                var name = Admin.Unique("sealed");
                var id = await node.CreateKeyAsync(await node.KeyStoreIdAsync(node.Info.UriPrefix), name, "ENCRYPT", "DECRYPT");
                var material = await StoredMaterialAsync(node, id, 1);
                await PostAsync(node, $"/api/v1/keys/{id}/schedule-destruction", new { waitingPeriodDays = 7 });
                await PostAsync(node, "/api/v1/sys/seal");

                await AdvanceAndSweepAsync(node, TimeSpan.FromDays(8));

                Assert.Equal(material, await StoredMaterialAsync(node, id, 1));
                Assert.True(MaterialExists(node, id, 1, material));

                // The dev seal unseals at start; the first sweep runs at once.
                node = await node.RestartAsync();
                await node.Server.Destruction.SweptAsync(Time.GetUtcNow()).WaitAsync(TimeSpan.FromSeconds(60));

                Assert.False(MaterialExists(node, id, 1, material));
                XksAssert.Error(await Client(node).GetKeyMetadataAsync(name), 404, "KeyNotFoundException");
            }
            finally
            {
                await node.DisposeAsync();
            }
        }
    }
}

namespace Coffer.Server.Tests.Xks.Software
{
    public sealed class DestructionTests() : Xks.DestructionTests(KeyStoreBackends.Software)
    {
        [Fact]
        public async Task A_sweep_while_a_long_read_is_open_fails_no_XKS_call_and_a_later_sweep_completes_the_erasure()
        {
            await using var node = await StartAsync();
            var name = Admin.Unique("longread");
            var id = await node.CreateKeyAsync(await node.KeyStoreIdAsync(node.Info.UriPrefix), name, "ENCRYPT", "DECRYPT");
            await PostAsync(node, $"/api/v1/keys/{id}/rotate");
            // A version in use: its first encryption reserves a block of its budget in the database.
            await Client(node).MustEncryptAsync(name, [1]);
            var material = await StoredMaterialAsync(node, id, 1);
            await PostAsync(node, $"/api/v1/keys/{id}/versions/1/schedule-destruction", new { waitingPeriodDays = 7 });
            // A minute before it is due, so the last step stays within SigV4's clock skew for the load below.
            await AdvanceAndSweepAsync(node, TimeSpan.FromDays(7) - Lifecycle.DestructionSweeper.Interval);

            var reader = await SnapshotReader.OpenAsync(AuditDatabase.PathOf(node));
            var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var calls = 0;
            using var stop = new CancellationTokenSource();
            // Steady traffic with gaps, as AWS KMS sends it: a writer that saturated the write lock would
            // starve the checkpoint of it instead of showing what the checkpoint does to the others.
            var load = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var response = await Client(node).EncryptAsync(name, [7]);
                    Interlocked.Increment(ref calls);
                    if (response.Status != 200)
                    {
                        failures.Enqueue($"{response.Status} {response.Body}");
                    }

                    await Task.Delay(10);
                }
            })).ToList();
            await AdvanceAndSweepAsync(node, Lifecycle.DestructionSweeper.Interval);
            await Task.Delay(TimeSpan.FromSeconds(1));
            await stop.CancelAsync();
            await Task.WhenAll(load);

            Assert.Empty(failures);
            Assert.True(calls > 0);
            Assert.Equal("Destroyed", (string?)Version((await node.Admin.GetFromJsonAsync<JsonNode>($"/api/v1/keys/{id}"))!, 1)["state"]);
            Assert.True(MaterialExists(node, id, 1, material), "the reader's snapshot still needs the old page (else this test proves nothing)");
            Assert.Contains(node.Logs.Lines, l => l.Contains("[6506]", StringComparison.Ordinal));

            await reader.DisposeAsync();
            await AdvanceAndSweepAsync(node, Lifecycle.DestructionSweeper.Interval);

            Assert.False(MaterialExists(node, id, 1, material));
        }
    }
}

namespace Coffer.Server.Tests.Xks.Pkcs11
{
    public sealed class DestructionTests() : Xks.DestructionTests(KeyStoreBackends.Pkcs11)
    {
        [Fact]
        public async Task A_sweep_that_stopped_after_the_HSM_destroyed_the_object_completes_the_destruction()
        {
            await using var node = await StartAsync();
            var name = Admin.Unique("halfway");
            var id = await node.CreateKeyAsync(await node.KeyStoreIdAsync(node.Info.UriPrefix), name, "ENCRYPT", "DECRYPT");
            await PostAsync(node, $"/api/v1/keys/{id}/rotate");
            var material = await StoredMaterialAsync(node, id, 1);
            await PostAsync(node, $"/api/v1/keys/{id}/versions/1/schedule-destruction", new { waitingPeriodDays = 7 });
            // What a crash between C_DestroyObject and the database update leaves behind.
            Assert.True(node.Server.Seal.Pkcs11!.DestroyKeyMaterial(id, 1, material));

            await AdvanceAndSweepAsync(node, TimeSpan.FromDays(7));

            Assert.Equal("Destroyed", (string?)Version((await node.Admin.GetFromJsonAsync<JsonNode>($"/api/v1/keys/{id}"))!, 1)["state"]);
            var done = (await AuditRecordsAsync(node, id)).Single(r => (string?)r!["action"] == "key.version.destroy" && (string?)r["outcome"] == "ok");
            Assert.Contains("already gone", (string?)done!["details"], StringComparison.Ordinal);
        }
    }
}
