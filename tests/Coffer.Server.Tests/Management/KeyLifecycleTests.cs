using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Coffer.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Coffer.Server.Tests.Management;

/// <summary>A node whose clock is a <see cref="FakeTimeProvider"/>, so times in answers are exact.</summary>
public sealed class FakeClockNode : IAsyncLifetime
{
    public static readonly DateTimeOffset Start = new(2026, 11, 28, 9, 30, 0, TimeSpan.Zero);

    public FakeTimeProvider Time { get; } = new(Start);

    public DevServer Node { get; private set; } = null!;

    public async Task InitializeAsync() => Node = await DevServer.StartAsync(time: Time);

    public async Task DisposeAsync() => await Node.DisposeAsync();
}

/// <summary>
/// The lifecycle endpoints as a client sees them: every version's state with the time and
/// actor of its last change, illegal transitions refused with the state machine's reason as a 409
/// problem that changes nothing, input checked, every change an audit record under its own action.
/// </summary>
public sealed class KeyLifecycleTests(FakeClockNode shared) : IClassFixture<FakeClockNode>
{
    private HttpClient Admin => shared.Node.Admin;

    private async Task<string> NewKeyAsync()
    {
        var store = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        return (string)(await Admin.CreateKeyAsync(store, new { name = ManagementApi.Unique("life") }))["id"]!;
    }

    private static JsonNode Version(JsonNode key, int version) => key["versions"]!.AsArray().Single(v => (int)v!["version"]! == version)!;

    private Task<HttpResponseMessage> ActAsync(string id, int version, string action, object? body = null) =>
        body is null
            ? Admin.PostAsync($"/api/v1/keys/{id}/versions/{version}/{action}", null)
            : Admin.PostAsJsonAsync($"/api/v1/keys/{id}/versions/{version}/{action}", body);

    [Fact]
    public async Task A_change_shows_its_time_and_actor_and_the_destruction_date_follows_the_waiting_period()
    {
        var id = await NewKeyAsync();
        var created = await Admin.GetJsonAsync($"/api/v1/keys/{id}");
        Assert.Null(Version(created, 1)["stateChangedAt"]);
        Assert.Null(Version(created, 1)["stateChangedBy"]);

        shared.Time.Advance(TimeSpan.FromHours(5));
        var rotatedAt = shared.Time.GetUtcNow();
        using var rotate = await Admin.PostAsync($"/api/v1/keys/{id}/rotate", null);
        var rotated = await rotate.JsonAsync(HttpStatusCode.OK);
        shared.Time.Advance(TimeSpan.FromMinutes(7));
        var scheduledAt = shared.Time.GetUtcNow();
        using var schedule = await ActAsync(id, 1, "schedule-destruction", new { waitingPeriodDays = 9 });
        var scheduled = await schedule.JsonAsync(HttpStatusCode.OK);

        Assert.Equal(rotatedAt, (DateTimeOffset)Version(rotated, 2)["createdAt"]!);
        Assert.Equal(rotatedAt, (DateTimeOffset)Version(rotated, 1)["stateChangedAt"]!);
        Assert.Equal(scheduledAt, (DateTimeOffset)Version(scheduled, 1)["stateChangedAt"]!);
        Assert.Equal(scheduledAt.AddDays(9), (DateTimeOffset)Version(scheduled, 1)["destroysAt"]!);
        Assert.Equal(rotatedAt, (DateTimeOffset)Version(scheduled, 2)["stateChangedAt"]!);

        // The actor is the token's id, the same one the audit log names, never the token itself.
        var actor = (string)Version(scheduled, 1)["stateChangedBy"]!;
        Assert.NotEqual(shared.Node.Info.AdminToken, actor);
        var records = (await Admin.GetJsonAsync($"/api/v1/audit/records?keyId={id}&limit=100"))["records"]!.AsArray();
        Assert.Contains(records, r => (string?)r!["action"] == "key.rotate" && (string?)r["outcome"] == "ok" && (string?)r["actorId"] == actor);
        Assert.Contains(records, r => (string?)r!["action"] == "key.version.schedule-destruction" && (string?)r["outcome"] == "ok");
    }

    [Theory]
    [InlineData("activate", "Only a PreActive version can be activated")]
    [InlineData("schedule-destruction", "An Active version cannot be scheduled for destruction")]
    [InlineData("cancel-destruction", "not scheduled for destruction")]
    public async Task An_illegal_transition_is_a_409_with_the_reason_and_changes_nothing(string action, string reason)
    {
        var id = await NewKeyAsync();
        var before = (await Admin.GetJsonAsync($"/api/v1/keys/{id}")).ToJsonString();

        using var response = await ActAsync(id, 1, action);
        var problem = await response.ProblemAsync(HttpStatusCode.Conflict);

        Assert.Contains(reason, (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Equal(before, (await Admin.GetJsonAsync($"/api/v1/keys/{id}")).ToJsonString());
    }

    [Fact]
    public async Task Nothing_but_cancel_changes_a_version_awaiting_destruction()
    {
        var id = await NewKeyAsync();
        (await ActAsync(id, 1, "deactivate")).Dispose();
        (await ActAsync(id, 1, "schedule-destruction")).Dispose();
        var scheduled = await Admin.GetJsonAsync($"/api/v1/keys/{id}");
        Assert.Equal(shared.Time.GetUtcNow().AddDays(30), (DateTimeOffset)Version(scheduled, 1)["destroysAt"]!);

        foreach (var action in new[] { "compromise", "activate", "deactivate", "schedule-destruction" })
        {
            using var refused = await ActAsync(id, 1, action);
            Assert.Contains("scheduled for destruction", (string?)(await refused.ProblemAsync(HttpStatusCode.Conflict))["detail"], StringComparison.Ordinal);
        }

        Assert.Equal(scheduled.ToJsonString(), (await Admin.GetJsonAsync($"/api/v1/keys/{id}")).ToJsonString());
    }

    [Fact]
    public async Task A_Compromised_version_cannot_be_compromised_again_or_reactivated()
    {
        var id = await NewKeyAsync();
        using (var first = await ActAsync(id, 1, "compromise"))
        {
            Assert.Equal(2, (int)(await first.JsonAsync(HttpStatusCode.OK))["currentVersion"]!);
        }

        var before = (await Admin.GetJsonAsync($"/api/v1/keys/{id}")).ToJsonString();
        using var again = await ActAsync(id, 1, "compromise");
        Assert.Contains("already Compromised", (string?)(await again.ProblemAsync(HttpStatusCode.Conflict))["detail"], StringComparison.Ordinal);
        using var activate = await ActAsync(id, 1, "activate");
        await activate.ProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(before, (await Admin.GetJsonAsync($"/api/v1/keys/{id}")).ToJsonString());
    }

    [Theory]
    [InlineData(6)]
    [InlineData(31)]
    [InlineData(0)]
    public async Task A_waiting_period_outside_7_to_30_days_is_a_400(int days)
    {
        var id = await NewKeyAsync();
        (await ActAsync(id, 1, "deactivate")).Dispose();

        using var response = await ActAsync(id, 1, "schedule-destruction", new { waitingPeriodDays = days });

        Assert.Contains("7 to 30", (string?)(await response.ProblemAsync(HttpStatusCode.BadRequest))["detail"], StringComparison.Ordinal);
        Assert.Null(Version(await Admin.GetJsonAsync($"/api/v1/keys/{id}"), 1)["destroysAt"]);
    }

    [Fact]
    public async Task Unknown_keys_and_versions_are_404_problems()
    {
        var id = await NewKeyAsync();

        using var noKey = await Admin.PostAsync("/api/v1/keys/key_none/rotate", null);
        await noKey.ProblemAsync(HttpStatusCode.NotFound);
        using var noVersion = await ActAsync(id, 9, "deactivate");
        Assert.Contains("no version 9", (string?)(await noVersion.ProblemAsync(HttpStatusCode.NotFound))["detail"], StringComparison.Ordinal);
        using var noKeyPut = await Admin.PutAsJsonAsync("/api/v1/keys/key_none/compromised-may-decrypt", new { allowed = true });
        await noKeyPut.ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Rotating_from_a_stale_expected_version_is_a_409_and_changes_nothing()
    {
        var id = await NewKeyAsync();
        using (var first = await Admin.PostAsJsonAsync($"/api/v1/keys/{id}/rotate", new { expectedCurrentVersion = 1 }))
        {
            await first.JsonAsync(HttpStatusCode.OK);
        }

        var before = (await Admin.GetJsonAsync($"/api/v1/keys/{id}")).ToJsonString();
        using var stale = await Admin.PostAsJsonAsync($"/api/v1/keys/{id}/rotate", new { expectedCurrentVersion = 1 });

        Assert.Contains("current version is 2", (string?)(await stale.ProblemAsync(HttpStatusCode.Conflict))["detail"], StringComparison.Ordinal);
        Assert.Equal(before, (await Admin.GetJsonAsync($"/api/v1/keys/{id}")).ToJsonString());
    }

    [Fact]
    public async Task Every_lifecycle_route_is_in_the_OpenAPI_document()
    {
        var document = (await Admin.GetJsonAsync("/api/v1/openapi.json"))["paths"]!.AsObject();

        foreach (var path in new[] { "rotate", "compromised-may-decrypt" })
        {
            Assert.True(document.ContainsKey($"/api/v1/keys/{{keyId}}/{path}"), path);
        }

        foreach (var action in new[] { "activate", "deactivate", "compromise", "schedule-destruction", "cancel-destruction" })
        {
            var operation = document[$"/api/v1/keys/{{keyId}}/versions/{{version}}/{action}"]?["post"];
            Assert.False(string.IsNullOrWhiteSpace((string?)operation?["summary"]), action);
        }
    }
}
