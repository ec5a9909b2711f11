using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Coffer.KeyStores;
using Coffer.Server.Tests.Xks;
using Coffer.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Coffer.Server.Tests.Scheduler;

/// <summary>
/// The lifecycle scheduler by the clock alone: a node per test whose
/// clock is a <see cref="FakeTimeProvider"/> shared with the XKS signer. Moving the clock past the
/// scheduler's interval fires its timer; the test then waits for that tick to finish (never sleeps).
/// Runs on both backends: a scheduled rotation makes its version in the key store's backend.
/// </summary>
public abstract class SchedulerTests(string backend) : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 8, 0, 0, TimeSpan.Zero);

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly FakeTimeProvider _time = new(Start);

    private DevServer _node = null!;

    private HttpClient Api => _node.Admin;

    public async Task InitializeAsync() => _node = await StartedAsync(await DevServer.StartAsync(time: _time, backend: backend));

    public async Task DisposeAsync() => await _node.DisposeAsync();

    /// <summary>The node once its start tick has run (its timer exists from then on).</summary>
    private async Task<DevServer> StartedAsync(DevServer node)
    {
        await node.Server.Scheduler.WaitForTickAsync(_time.GetUtcNow()).WaitAsync(Patience);
        return node;
    }

    private async Task RestartAsync(Action? whileStopped = null, Action<Coffer.Server.Hosting.CofferOptions>? change = null) =>
        _node = await StartedAsync(await _node.RestartAsync(change, whileStopped));

    /// <summary>Moves the clock on (at least one scheduler interval) and waits for the tick it fires.</summary>
    private async Task AdvanceAsync(TimeSpan by)
    {
        Assert.True(by >= TimeSpan.FromMinutes(1), "the scheduler ticks once a minute");
        _time.Advance(by);
        await _node.Server.Scheduler.WaitForTickAsync(_time.GetUtcNow()).WaitAsync(Patience);
    }

    private XksClient Client => XksClient.For(_node) with { SigningTime = _time.GetUtcNow() };

    private async Task<(string Name, string Id)> NewKeyAsync()
    {
        var name = Admin.Unique("sched");
        return (name, await _node.CreateKeyAsync(await _node.KeyStoreIdAsync(_node.Info.UriPrefix), name, "ENCRYPT", "DECRYPT"));
    }

    private async Task PutAsync(string path, object body)
    {
        using var response = await Api.PutAsJsonAsync(path, body);
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private async Task<JsonNode> KeyAsync(string id) => JsonNode.Parse(await Api.GetStringAsync($"/api/v1/keys/{id}"))!;

    private async Task<int> CurrentVersionAsync(string id) => (int)(await KeyAsync(id))["currentVersion"]!;

    private static JsonNode Version(JsonNode key, int version) => key["versions"]!.AsArray().Single(v => (int)v!["version"]! == version)!;

    private async Task<JsonArray> RecordsAsync(string id, string action) =>
        JsonNode.Parse(await Api.GetStringAsync($"/api/v1/audit/records?keyId={id}&action={action}&limit=1000"))!["records"]!.AsArray();

    /// <summary>The system's ok records of <paramref name="action"/> for the key; every outcome has
    /// its requested record.</summary>
    private async Task<List<JsonNode>> DoneAsync(string id, string action)
    {
        var records = await RecordsAsync(id, action);
        Assert.All(records, r => Assert.Equal("system", (string?)r!["actorKind"]));
        Assert.Equal(records.Count(r => (string?)r!["outcome"] is "ok" or "error"), records.Count(r => (string?)r!["outcome"] == "requested"));
        return [.. records.Where(r => (string?)r!["outcome"] == "ok").Select(r => r!)];
    }

    [Fact]
    public async Task A_policy_rotates_a_key_once_at_its_due_time_and_the_new_version_encrypts()
    {
        var (name, id) = await NewKeyAsync();
        var v1 = await Client.MustEncryptAsync(name, [1]);
        await PutAsync($"/api/v1/keys/{id}/rotation-policy", new { intervalDays = 1 });

        await AdvanceAsync(TimeSpan.FromDays(1) - TimeSpan.FromMinutes(1));
        Assert.Equal(1, await CurrentVersionAsync(id));
        await AdvanceAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(2, await CurrentVersionAsync(id));
        await _node.Server.Scheduler.TickAsync();
        await AdvanceAsync(TimeSpan.FromMinutes(5));

        var key = await KeyAsync(id);
        Assert.Equal(2, (int)key["currentVersion"]!);
        Assert.Equal("Deactivated", (string?)Version(key, 1)["state"]);
        Assert.Equal("system", (string?)Version(key, 2)["stateChangedBy"]);
        Assert.Equal(backend, (string?)Version(key, 2)["backend"]);
        var done = Assert.Single(await DoneAsync(id, "key.rotate.scheduled"));
        Assert.Equal(2, (int?)done["keyVersion"]);
        Assert.Contains("due 2026-11-29T08:00:00Z (every 1 days)", (string?)done["details"], StringComparison.Ordinal);
        Assert.Equal([0x01, 0, 0, 0, 2], (await Client.MustEncryptAsync(name, [2])).CiphertextMetadata);
        Assert.Equal([1], (await Client.DecryptAsync(name, v1)).Bytes("plaintext"));
        Assert.Equal(Start.AddDays(2), (DateTimeOffset)JsonNode.Parse(await Api.GetStringAsync($"/api/v1/keys/{id}/rotation-policy"))!["nextRotationAt"]!);
    }

    [Fact]
    public async Task Ticks_racing_for_one_due_time_rotate_once()
    {
        var (_, id) = await NewKeyAsync();
        await PutAsync($"/api/v1/keys/{id}/rotation-policy", new { timeOfDay = "09:00" });

        // The clock's own tick and two more at the same instant.
        _time.Advance(TimeSpan.FromHours(2));
        await Task.WhenAll(_node.Server.Scheduler.TickAsync(), _node.Server.Scheduler.TickAsync(),
            _node.Server.Scheduler.WaitForTickAsync(_time.GetUtcNow()).WaitAsync(Patience));

        var key = await KeyAsync(id);
        Assert.Equal(2, (int)key["currentVersion"]!);
        Assert.Equal(2, key["versions"]!.AsArray().Count);
        Assert.Single(await DoneAsync(id, "key.rotate.scheduled"));
    }

    [Fact]
    public async Task Rotations_missed_while_stopped_run_once_at_start_and_the_next_period_counts_from_there()
    {
        var (name, id) = await NewKeyAsync();
        await PutAsync($"/api/v1/keys/{id}/rotation-policy", new { intervalDays = 1 });

        // Five due times pass while no node runs.
        await RestartAsync(whileStopped: () => _time.Advance(TimeSpan.FromDays(5) + TimeSpan.FromHours(1)));

        Assert.Equal(2, await CurrentVersionAsync(id));
        Assert.Single(await DoneAsync(id, "key.rotate.scheduled"));
        await RestartAsync();
        Assert.Equal(2, await CurrentVersionAsync(id));

        await AdvanceAsync(TimeSpan.FromDays(1) - TimeSpan.FromMinutes(1));
        Assert.Equal(2, await CurrentVersionAsync(id));
        await AdvanceAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(3, await CurrentVersionAsync(id));
        Assert.Equal(2, (await DoneAsync(id, "key.rotate.scheduled")).Count);
        Assert.Equal([0x01, 0, 0, 0, 3], (await Client.MustEncryptAsync(name, [3])).CiphertextMetadata);
    }

    [Fact]
    public async Task An_upcoming_expiry_is_warned_once_per_lead_time_reached()
    {
        var (_, id) = await NewKeyAsync();
        await PutAsync($"/api/v1/keys/{id}/versions/1/dates", new { deactivatesAt = _time.GetUtcNow().AddDays(10) });

        await AdvanceAsync(TimeSpan.FromMinutes(2));
        await _node.Server.Scheduler.TickAsync();
        var first = await RecordsAsync(id, "key.version.expiry-warning");
        await AdvanceAsync(TimeSpan.FromDays(3) + TimeSpan.FromMinutes(1)); // 7 days left
        await AdvanceAsync(TimeSpan.FromMinutes(1));
        var second = await RecordsAsync(id, "key.version.expiry-warning");

        var warning = Assert.Single(first)!;
        Assert.Equal("system", (string?)warning["actorKind"]);
        Assert.Equal("ok", (string?)warning["outcome"]);
        Assert.Equal(1, (int?)warning["keyVersion"]);
        Assert.EndsWith("within 30 days", (string?)warning["details"], StringComparison.Ordinal);
        Assert.Equal(2, second.Count);
        Assert.EndsWith("within 7 days", (string?)second[0]!["details"], StringComparison.Ordinal); // newest first
    }

    [Fact]
    public async Task Expiry_switches_encryption_off_at_its_instant_and_the_scheduler_records_it()
    {
        var (name, id) = await NewKeyAsync();
        var expiry = _time.GetUtcNow().AddHours(1);
        await PutAsync($"/api/v1/keys/{id}/versions/1/dates", new { deactivatesAt = expiry });
        var data = RandomNumberGenerator.GetBytes(32);

        await AdvanceAsync(TimeSpan.FromHours(1) - TimeSpan.FromSeconds(1));
        var sealedData = await Client.MustEncryptAsync(name, data);
        _time.Advance(TimeSpan.FromSeconds(1));
        XksAssert.Error(await Client.EncryptAsync(name, data), 400, "InvalidStateException");
        // The expiry is on a whole minute, so the clock's own tick fires there too: wait for it as well
        // as for a tick of our own, or its outcome record may still be on its way.
        await Task.WhenAll(_node.Server.Scheduler.TickAsync(), _node.Server.Scheduler.WaitForTickAsync(_time.GetUtcNow()).WaitAsync(Patience));

        var version = Version(await KeyAsync(id), 1);
        Assert.Equal("Deactivated", (string?)version["state"]);
        Assert.Equal("system", (string?)version["stateChangedBy"]);
        Assert.Equal(expiry, (DateTimeOffset)version["stateChangedAt"]!);
        Assert.False((bool)version["encrypts"]!);
        Assert.Equal(1, (int?)Assert.Single(await DoneAsync(id, "key.version.expire"))["keyVersion"]);
        XksAssert.Error(await Client.EncryptAsync(name, data), 400, "InvalidStateException");
        Assert.Equal(data, (await Client.DecryptAsync(name, sealedData)).Bytes("plaintext"));
        Assert.Empty(await RecordsAsync(id, "key.rotate.scheduled"));
    }

    [Fact]
    public async Task A_key_created_with_an_activation_time_encrypts_from_then_and_the_scheduler_records_it_with_a_later_expiry()
    {
        var name = Admin.Unique("later");
        var activates = _time.GetUtcNow().AddMinutes(30);
        var expires = activates.AddHours(2);
        var id = (string)(await PostAsync($"/api/v1/keystores/{await _node.KeyStoreIdAsync(_node.Info.UriPrefix)}/keys", new { name, activatesAt = activates }, HttpStatusCode.Created))["id"]!;
        Assert.Equal("PreActive", (string?)Version(await KeyAsync(id), 1)["state"]);
        await PutAsync($"/api/v1/keys/{id}/versions/1/dates", new { activatesAt = activates, deactivatesAt = expires });

        XksAssert.Error(await Client.EncryptAsync(name, [1]), 400, "InvalidStateException");
        await AdvanceAsync(TimeSpan.FromMinutes(30));

        var version = Version(await KeyAsync(id), 1);
        Assert.Equal(("Active", "system"), ((string?)version["state"], (string?)version["stateChangedBy"]));
        Assert.Equal(activates, (DateTimeOffset)version["stateChangedAt"]!);
        Assert.Equal(expires, (DateTimeOffset)version["deactivatesAt"]!);
        Assert.Single(await DoneAsync(id, "key.version.activate.scheduled"));
        Assert.Equal([0x01, 0, 0, 0, 1], (await Client.MustEncryptAsync(name, [1])).CiphertextMetadata);

        await AdvanceAsync(TimeSpan.FromHours(2));
        Assert.Equal("Deactivated", (string?)Version(await KeyAsync(id), 1)["state"]);
        Assert.Single(await DoneAsync(id, "key.version.expire"));
        XksAssert.Error(await Client.EncryptAsync(name, [1]), 400, "InvalidStateException");
    }

    [Fact]
    public async Task A_rotation_with_an_activation_time_hands_encryption_over_at_that_instant()
    {
        var (name, id) = await NewKeyAsync();
        var activates = _time.GetUtcNow().AddMinutes(30);

        var key = await PostAsync($"/api/v1/keys/{id}/rotate", new { activatesAt = activates }, HttpStatusCode.OK);

        Assert.Equal(2, (int)key["currentVersion"]!);
        Assert.Equal(("PreActive", false), ((string?)Version(key, 2)["state"], (bool)Version(key, 2)["encrypts"]!));
        Assert.Equal(("Active", true), ((string?)Version(key, 1)["state"], (bool)Version(key, 1)["encrypts"]!));
        _time.Advance(TimeSpan.FromMinutes(30) - TimeSpan.FromSeconds(1));
        var before = await Client.MustEncryptAsync(name, [1]);
        Assert.Equal([0x01, 0, 0, 0, 1], before.CiphertextMetadata);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([0x01, 0, 0, 0, 2], (await Client.MustEncryptAsync(name, [2])).CiphertextMetadata);
        Assert.Equal([1], (await Client.DecryptAsync(name, before)).Bytes("plaintext"));

        await AdvanceAsync(TimeSpan.FromMinutes(1));
        key = await KeyAsync(id);
        Assert.Equal(("Active", true), ((string?)Version(key, 2)["state"], (bool)Version(key, 2)["encrypts"]!));
        Assert.Equal(("Deactivated", false), ((string?)Version(key, 1)["state"], (bool)Version(key, 1)["encrypts"]!));
        Assert.Single(await DoneAsync(id, "key.version.activate.scheduled"));
        Assert.Single(await DoneAsync(id, "key.version.expire"));
    }

    [Fact]
    public async Task A_waiting_version_activated_early_encrypts_at_once_and_blocks_another_rotation_until_then()
    {
        var (name, id) = await NewKeyAsync();
        await PostAsync($"/api/v1/keys/{id}/rotate", new { activatesAt = _time.GetUtcNow().AddMinutes(-1) }, HttpStatusCode.BadRequest);
        Assert.Single((await KeyAsync(id))["versions"]!.AsArray());
        await PostAsync($"/api/v1/keys/{id}/rotate", new { activatesAt = _time.GetUtcNow().AddDays(1) }, HttpStatusCode.OK);

        var again = await PostAsync($"/api/v1/keys/{id}/rotate", new { }, HttpStatusCode.Conflict);
        Assert.Contains("PreActive", (string?)again["detail"], StringComparison.Ordinal);
        Assert.Equal(2, (await KeyAsync(id))["versions"]!.AsArray().Count);
        Assert.Equal([0x01, 0, 0, 0, 1], (await Client.MustEncryptAsync(name, [1])).CiphertextMetadata);

        var key = await PostAsync($"/api/v1/keys/{id}/versions/2/activate", new { }, HttpStatusCode.OK);

        Assert.Equal(("Active", true), ((string?)Version(key, 2)["state"], (bool)Version(key, 2)["encrypts"]!));
        Assert.Equal("Deactivated", (string?)Version(key, 1)["state"]);
        Assert.Equal([0x01, 0, 0, 0, 2], (await Client.MustEncryptAsync(name, [2])).CiphertextMetadata);
    }

    private async Task<JsonNode> PostAsync(string path, object body, HttpStatusCode expected)
    {
        using var response = await Api.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task Rotation_ahead_of_expiry_keeps_encryption_working_past_it()
    {
        var (name, id) = await NewKeyAsync();
        await PutAsync($"/api/v1/keys/{id}/rotation-policy", new { rotateBeforeExpiryDays = 2 });
        await PutAsync($"/api/v1/keys/{id}/versions/1/dates", new { deactivatesAt = _time.GetUtcNow().AddDays(10) });
        var v1 = await Client.MustEncryptAsync(name, [1]);

        await AdvanceAsync(TimeSpan.FromDays(8) - TimeSpan.FromMinutes(1));
        Assert.Equal(1, await CurrentVersionAsync(id));
        await AdvanceAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(2, await CurrentVersionAsync(id));
        await AdvanceAsync(TimeSpan.FromDays(3));

        Assert.Equal([0x01, 0, 0, 0, 2], (await Client.MustEncryptAsync(name, [2])).CiphertextMetadata);
        Assert.Equal([1], (await Client.DecryptAsync(name, v1)).Bytes("plaintext"));
        Assert.Contains("2 days before version 1 expires", (string?)Assert.Single(await DoneAsync(id, "key.rotate.scheduled"))["details"], StringComparison.Ordinal);
        Assert.Equal(2, await CurrentVersionAsync(id));
    }

    [Fact]
    public async Task A_key_stores_policy_rotates_its_keys_and_a_keys_own_policy_wins()
    {
        var (_, follows) = await NewKeyAsync();
        var (_, own) = await NewKeyAsync();
        await PutAsync($"/api/v1/keystores/{await _node.KeyStoreIdAsync(_node.Info.UriPrefix)}/rotation-policy", new { intervalDays = 2 });
        await PutAsync($"/api/v1/keys/{own}/rotation-policy", new { intervalDays = 30 });

        await AdvanceAsync(TimeSpan.FromDays(2));

        Assert.Equal(2, await CurrentVersionAsync(follows));
        Assert.Equal(1, await CurrentVersionAsync(own));
    }

    [Fact]
    public async Task A_rotation_the_audit_log_cannot_record_is_not_made_and_runs_on_the_next_tick()
    {
        var (_, id) = await NewKeyAsync();
        await PutAsync($"/api/v1/keys/{id}/rotation-policy", new { intervalDays = 1 });

        // Another writer holds the database: the audit log cannot write its record (fail closed).
        await using (var locker = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_node.DataDirectory, "coffer.db")};Pooling=False"))
        {
            await locker.OpenAsync();
            await using (var exclusive = locker.CreateCommand())
            {
                exclusive.CommandText = "BEGIN EXCLUSIVE";
                await exclusive.ExecuteNonQueryAsync();
            }

            await AdvanceAsync(TimeSpan.FromDays(1));

            // Checked while the lock is held (readers still read): nothing can have been written.
            Assert.Equal(1, await CurrentVersionAsync(id));
            Assert.Contains(_node.Logs.Lines, l => l.Contains("[6102]", StringComparison.Ordinal));
            Assert.Empty(await RecordsAsync(id, "key.rotate.scheduled"));
            await using var rollback = locker.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            await rollback.ExecuteNonQueryAsync();
        }

        await AdvanceAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(2, await CurrentVersionAsync(id));
        Assert.Single(await DoneAsync(id, "key.rotate.scheduled"));
    }

    [Fact]
    public async Task A_scheduled_rotation_is_listed_by_the_actor_the_listing_shows_system()
    {
        var (_, id) = await NewKeyAsync();
        await PutAsync($"/api/v1/keys/{id}/rotation-policy", new { intervalDays = 1 });
        await AdvanceAsync(TimeSpan.FromDays(1));

        var records = JsonNode.Parse(await Api.GetStringAsync($"/api/v1/audit/records?actor=system&keyId={id}&limit=1000"))!["records"]!.AsArray();

        Assert.Contains(records, r => (string?)r!["action"] == "key.rotate.scheduled" && (string?)r["outcome"] == "ok");
        // The key's creation and policy were the administrator's: not the system's.
        Assert.All(records, r => Assert.Equal(("system", null), ((string?)r!["actorKind"], (string?)r["actorId"])));
    }

    [Fact]
    public async Task Sealed_the_scheduler_does_nothing_and_it_catches_up_once_unsealed()
    {
        var (_, id) = await NewKeyAsync();
        await PutAsync($"/api/v1/keys/{id}/rotation-policy", new { intervalDays = 1 });
        await _node.Server.Seal.SealAsync();

        await AdvanceAsync(TimeSpan.FromDays(3));
        await _node.Server.Scheduler.TickAsync();
        Assert.Equal(1, await CurrentVersionAsync(id));

        // The dev seal unseals at start.
        await RestartAsync();
        Assert.Equal(2, await CurrentVersionAsync(id));
        Assert.Single(await DoneAsync(id, "key.rotate.scheduled"));
    }

    /// <summary>Run by the pkcs11 variant only: software material cannot fail to be made, while the
    /// HSM backend can be missing.</summary>
    protected async Task A_failed_rotation_is_audited_as_an_error_and_runs_on_a_later_tick()
    {
        var (_, id) = await NewKeyAsync();
        await PutAsync($"/api/v1/keys/{id}/rotation-policy", new { intervalDays = 1 });
        var token = _node.Token!;

        await RestartAsync(whileStopped: () => _time.Advance(TimeSpan.FromDays(2)), change: o => o.Pkcs11 = null);
        await AdvanceAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await CurrentVersionAsync(id));
        var failed = (await RecordsAsync(id, "key.rotate.scheduled")).Where(r => (string?)r!["outcome"] == "error").ToList();
        Assert.True(failed.Count >= 2, $"one failure per tick, got {failed.Count}");
        Assert.All(failed, r => Assert.Equal("Backend not configured", (string?)r!["errorName"]));
        Assert.Contains(_node.Logs.Lines, l => l.Contains("[6101]", StringComparison.Ordinal));

        await RestartAsync(change: o => o.Pkcs11 = DevServer.Pkcs11Options(token));

        Assert.Equal(2, await CurrentVersionAsync(id));
        Assert.Single(await DoneAsync(id, "key.rotate.scheduled"));
    }
}

public sealed class SoftwareSchedulerTests() : SchedulerTests(KeyStoreBackends.Software);

public sealed class Pkcs11SchedulerTests() : SchedulerTests(KeyStoreBackends.Pkcs11)
{
    [Fact]
    public Task A_rotation_that_fails_is_audited_as_an_error_and_runs_on_a_later_tick() => A_failed_rotation_is_audited_as_an_error_and_runs_on_a_later_tick();
}
