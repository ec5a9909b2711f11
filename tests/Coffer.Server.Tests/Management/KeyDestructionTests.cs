using System.Net;
using System.Text.Json.Nodes;

namespace Coffer.Server.Tests.Management;

/// <summary>
/// POST /api/v1/keys/{keyId}/schedule-destruction and /cancel-destruction as a client sees them:
/// input checked (400), illegal moves refused with a reason (409), nothing changed by a refusal, and
/// each change an audit record. What happens when the wait ends is Xks/DestructionTests.
/// </summary>
public sealed class KeyDestructionTests(FakeClockNode shared) : IClassFixture<FakeClockNode>
{
    private HttpClient Admin => shared.Node.Admin;

    private async Task<string> NewKeyAsync()
    {
        var store = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        return (string)(await Admin.CreateKeyAsync(store, new { name = ManagementApi.Unique("kd") }))["id"]!;
    }

    private Task<HttpResponseMessage> PostAsync(string path, object? body = null) =>
        body is null ? Admin.PostAsync(path, null) : Admin.PostJsonAsync(path, body);

    [Theory]
    [InlineData(6)]
    [InlineData(31)]
    [InlineData(0)]
    public async Task A_waiting_period_outside_7_to_30_days_is_a_400_and_changes_nothing(int days)
    {
        var id = await NewKeyAsync();

        using var response = await PostAsync($"/api/v1/keys/{id}/schedule-destruction", new { waitingPeriodDays = days });

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("7 to 30", (string?)problem["detail"], StringComparison.Ordinal);
        var key = await Admin.GetJsonAsync($"/api/v1/keys/{id}");
        Assert.Equal("enabled", (string?)key["status"]);
        Assert.Null(key["destroysAt"]);
    }

    [Fact]
    public async Task The_default_waiting_period_is_30_days()
    {
        var id = await NewKeyAsync();

        using var response = await PostAsync($"/api/v1/keys/{id}/schedule-destruction");

        var key = await response.JsonAsync(HttpStatusCode.OK);
        Assert.Equal(shared.Time.GetUtcNow().AddDays(30), (DateTimeOffset)key["destroysAt"]!);
        Assert.Equal("pending-destruction", (string?)key["status"]);
    }

    [Fact]
    public async Task Scheduling_twice_cancelling_what_is_not_scheduled_and_changing_a_key_that_waits_are_409s()
    {
        var id = await NewKeyAsync();
        using (var notScheduled = await PostAsync($"/api/v1/keys/{id}/cancel-destruction"))
        {
            Assert.Contains("not scheduled", (string?)(await notScheduled.ProblemAsync(HttpStatusCode.Conflict))["detail"], StringComparison.Ordinal);
        }

        using (var first = await PostAsync($"/api/v1/keys/{id}/schedule-destruction", new { waitingPeriodDays = 12 }))
        {
            await first.JsonAsync(HttpStatusCode.OK);
        }

        using (var second = await PostAsync($"/api/v1/keys/{id}/schedule-destruction", new { waitingPeriodDays = 20 }))
        {
            Assert.Contains("already scheduled", (string?)(await second.ProblemAsync(HttpStatusCode.Conflict))["detail"], StringComparison.Ordinal);
        }

        using (var rotate = await PostAsync($"/api/v1/keys/{id}/rotate"))
        {
            await rotate.ProblemAsync(HttpStatusCode.Conflict);
        }

        using (var deactivate = await PostAsync($"/api/v1/keys/{id}/versions/1/deactivate"))
        {
            await deactivate.ProblemAsync(HttpStatusCode.Conflict);
        }

        var key = await Admin.GetJsonAsync($"/api/v1/keys/{id}");
        Assert.Equal(shared.Time.GetUtcNow().AddDays(12), (DateTimeOffset)key["destroysAt"]!);
        Assert.Equal((1, "Active"), ((int)key["currentVersion"]!, (string?)key["versions"]![0]!["state"]));
    }

    [Fact]
    public async Task Unknown_keys_are_404_and_each_change_is_audited_under_its_action()
    {
        using (var unknown = await PostAsync("/api/v1/keys/key_nope/schedule-destruction"))
        {
            await unknown.ProblemAsync(HttpStatusCode.NotFound);
        }

        var id = await NewKeyAsync();
        (await PostAsync($"/api/v1/keys/{id}/schedule-destruction", new { waitingPeriodDays = 7 })).Dispose();
        (await PostAsync($"/api/v1/keys/{id}/cancel-destruction")).Dispose();

        var records = (await Admin.GetJsonAsync($"/api/v1/audit/records?keyId={id}&limit=100"))["records"]!.AsArray();
        Assert.Equal(["ok", "requested"], records.Where(r => (string?)r!["action"] == "key.schedule-destruction").Select(r => (string?)r!["outcome"]));
        Assert.Equal(["ok", "requested"], records.Where(r => (string?)r!["action"] == "key.cancel-destruction").Select(r => (string?)r!["outcome"]));
        Assert.Equal("enabled", (string?)(await Admin.GetJsonAsync($"/api/v1/keys/{id}"))["status"]);
    }
}
