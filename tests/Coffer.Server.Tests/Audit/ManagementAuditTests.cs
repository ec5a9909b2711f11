using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Coffer.Server.Management;
using Coffer.Server.Tests.Management;
using Coffer.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;

namespace Coffer.Server.Tests.Audit;

/// <summary>Management changes, failed logins and seal changes as audit records, read back through
/// GET /api/v1/audit/records; fail closed when the audit store cannot be written. The tests share one
/// node and look only at the records of their own changes; the seal test has a node of its own.</summary>
public sealed class ManagementAuditTests(SharedNode shared) : IClassFixture<SharedNode>
{
    [Fact]
    public async Task A_changes_records_keep_the_reason_its_caller_gave()
    {
        await using var node = await DevServer.StartAsync();
        var key = await node.Admin.CreateKeyAsync((string)(await node.Admin.CreateKeyStoreAsync())["id"]!, new { name = "reasoned" });
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/keys/{(string)key["id"]!}/versions/1/compromise");
        request.Headers.Add("Coffer-Reason", "found in a leaked backup");
        (await node.Admin.SendAsync(request)).Dispose();

        var compromise = Pair(await node.Admin.AllRecordsAsync("&action=key.version.compromise"), "key.version.compromise", _ => true);

        Assert.EndsWith(", reason: found in a leaked backup", (string?)compromise.Requested["details"], StringComparison.Ordinal);
        Assert.Contains(", reason: found in a leaked backup -> 200", (string?)compromise.Done["details"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_change_is_recorded_before_and_after_with_the_token_id_source_ip_and_target_ids()
    {
        var node = shared.Node;
        var store = await node.Admin.CreateKeyStoreAsync();
        var storeId = (string)store["id"]!;
        var credential = await node.Admin.AddCredentialAsync(storeId);
        var credentialId = (string)credential["id"]!;
        var key = await node.Admin.CreateKeyAsync(storeId, new { name = "audited" });
        var keyId = (string)key["id"]!;
        (await node.Admin.PostAsync($"/api/v1/keys/{keyId}/disable", null)).Dispose();
        (await node.Admin.DeleteAsync($"/api/v1/keystores/{storeId}/credentials/{credentialId}")).Dispose();

        var records = await node.Admin.AllRecordsAsync();

        var create = Pair(records, "keystore.create", r => (string?)r["keyStore"] == storeId);
        Assert.Equal("token", (string?)create.Requested["actorKind"]);
        Assert.StartsWith("tok_", (string)create.Requested["actorId"]!, StringComparison.Ordinal);
        Assert.Equal("127.0.0.1", (string?)create.Requested["sourceIp"]);
        Assert.Equal("POST /api/v1/keystores", (string?)create.Requested["details"]);
        Assert.Contains("-> 201", (string)create.Done["details"]!, StringComparison.Ordinal);

        var add = Pair(records, "credential.add", r => (string?)r["keyStore"] == storeId);
        Assert.Contains(credentialId, (string)add.Done["details"]!, StringComparison.Ordinal);
        Assert.Contains((string)credential["accessKeyId"]!, (string)add.Done["details"]!, StringComparison.Ordinal);

        var keyCreate = Pair(records, "key.create", r => (string?)r["keyId"] == keyId);
        Assert.Equal(storeId, (string?)keyCreate.Done["keyStore"]);
        Assert.Equal(1, (int?)keyCreate.Done["keyVersion"]);
        Assert.Null(keyCreate.Requested["keyId"]);

        var disable = Pair(records, "key.disable", r => (string?)r["keyId"] == keyId);
        Assert.Equal(keyId, (string?)disable.Requested["keyId"]);

        var revoke = Pair(records, "credential.revoke", r => ((string?)r["details"])?.Contains(credentialId, StringComparison.Ordinal) == true);
        Assert.Contains("-> 204", (string)revoke.Done["details"]!, StringComparison.Ordinal);

        // Every outcome record follows its request record, with the latency of the change.
        Assert.All(new[] { create, add, keyCreate, disable, revoke }, pair =>
        {
            Assert.True((long)pair.Done["sequence"]! > (long)pair.Requested["sequence"]!);
            Assert.NotNull(pair.Done["latencyMs"]);
        });
    }

    [Fact]
    public async Task A_refused_change_is_recorded_with_the_problem_the_caller_saw()
    {
        var node = shared.Node;

        using var response = await node.Admin.PostAsync("/api/v1/keys/key_doesnotexist/enable", null);
        await response.ProblemAsync(HttpStatusCode.NotFound);

        var done = (await node.Admin.AllRecordsAsync("&action=key.enable&outcome=error")).Single();
        Assert.Equal("key_doesnotexist", (string?)done["keyId"]);
        Assert.Equal("Not found", (string?)done["errorName"]);
        Assert.Contains("key_doesnotexist", (string)done["reason"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failed_logins_are_recorded_with_source_ip_and_reason_but_never_the_token()
    {
        var node = shared.Node;
        const string marker = "coffer_MARKERtokenTHATmustNEVERbeRECORDED0000000000";
        var head = (long)(await node.Admin.VerifyAsync())["lastSequence"]!;
        using var anonymous = new HttpClient { BaseAddress = node.Admin.BaseAddress };
        (await anonymous.GetAsync("/api/v1/keys")).Dispose();
        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", marker);
        (await anonymous.PostAsync("/api/v1/keystores", JsonContent())).Dispose();

        var failures = (await node.Admin.AllRecordsAsync("&action=auth.failed")).Where(r => (long)r["sequence"]! > head).ToList();

        Assert.Equal(2, failures.Count);
        Assert.All(failures, f =>
        {
            Assert.Equal("denied", (string?)f["outcome"]);
            Assert.Equal("anonymous", (string?)f["actorKind"]);
            Assert.Equal("127.0.0.1", (string?)f["sourceIp"]);
        });
        Assert.Equal(["no bearer token", "unknown token"], failures.Select(f => (string?)f["reason"]));
        Assert.Equal("POST /api/v1/keystores", (string?)failures[1]["details"]);
        using var db = new AuditDatabase(node);
        Assert.DoesNotContain("MARKERtoken", db.DumpAll(), StringComparison.Ordinal);
        Assert.DoesNotContain("MARKERtoken", node.Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_secret_share_or_token_reaches_a_record_or_the_log()
    {
        var node = shared.Node;
        var store = await node.Admin.CreateKeyStoreAsync();
        var credential = await node.Admin.AddCredentialAsync((string)store["id"]!);
        var secret = (string)credential["secretAccessKey"]!;
        (await node.Admin.GetAsync($"/api/v1/keystores/{(string)store["id"]!}/credentials/{(string)credential["id"]!}/aws-config")).Dispose();

        using var db = new AuditDatabase(node);
        var dump = db.DumpAll() + string.Join('\n', (await node.Admin.AllRecordsAsync()).Select(r => r.ToJsonString()));

        Assert.Contains((string)credential["accessKeyId"]!, dump, StringComparison.Ordinal);
        foreach (var marker in new[] { secret, node.Info.AdminToken, node.Info.SecretAccessKey })
        {
            Assert.DoesNotContain(marker, dump, StringComparison.Ordinal);
            Assert.DoesNotContain(marker, node.Logs.All, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Seal_and_the_start_up_unseal_are_recorded()
    {
        // A node of its own: it is sealed.
        await using var node = await DevServer.StartAsync();
        var unseal = (await node.Admin.AllRecordsAsync("&action=seal.unseal")).Single();
        Assert.Equal("system", (string?)unseal["actorKind"]);
        Assert.StartsWith("unsealed;", (string)unseal["details"]!, StringComparison.Ordinal);

        (await node.Admin.PostAsync("/api/v1/sys/seal", null)).Dispose();

        var seals = await node.Admin.AllRecordsAsync("&action=seal.seal");
        // The request, the seal itself (recorded after the keys are gone), then the request's outcome.
        Assert.Equal(["token requested", "system ok", "token ok"], seals.Select(s => $"{(string?)s["actorKind"]} {(string?)s["outcome"]}"));
        Assert.StartsWith("sealed", (string)seals[1]["details"]!, StringComparison.Ordinal);
        Assert.EndsWith("-> 200, sealed", (string)seals[2]["details"]!, StringComparison.Ordinal);
        using var sealedVerify = await node.Admin.GetAsync("/api/v1/audit/verify");
        await sealedVerify.ProblemAsync(HttpStatusCode.ServiceUnavailable);
    }

    [Fact]
    public async Task While_the_audit_store_is_locked_a_change_answers_503_and_changes_nothing_then_works_again()
    {
        var node = shared.Node;
        var name = ManagementApi.Unique("locked");
        var headBefore = (long)(await node.Admin.VerifyAsync())["lastSequence"]!;

        // A second connection holds the write lock, as a stuck writer or a full disk would keep the
        // audit store from taking records (works as root too, unlike file permissions).
        using (var holder = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = AuditDatabase.PathOf(node), Pooling = false }.ToString()))
        {
            holder.Open();
            using (var begin = holder.CreateCommand())
            {
                begin.CommandText = "BEGIN EXCLUSIVE";
                begin.ExecuteNonQuery();
            }

            using var refused = await node.Admin.PostJsonAsync("/api/v1/keystores", new { name, uriPrefix = "/" + name });
            var problem = await refused.ProblemAsync(HttpStatusCode.ServiceUnavailable);
            Assert.Equal("Audit log unavailable", (string?)problem["title"]);

            var stores = await node.Admin.GetJsonAsync("/api/v1/keystores");
            Assert.DoesNotContain(stores.AsArray(), s => (string?)s!["name"] == name);
            using var rollback = holder.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            rollback.ExecuteNonQuery();
        }

        Assert.Contains("could not write a batch", node.Logs.All, StringComparison.Ordinal);
        await node.Admin.CreateKeyStoreAsync(name);
        var after = await node.Admin.VerifyAsync();
        Assert.True((bool)after["ok"]!, after.ToJsonString());
        // Nothing of the refused request was written: the retry's two records follow at once.
        Assert.Equal(headBefore + 2, (long)after["lastSequence"]!);
        Assert.Empty(await node.Admin.AllRecordsAsync("&action=keystore.create&outcome=error"));
    }

    [Fact]
    public void A_management_API_with_an_unaudited_change_does_not_start()
    {
        var app = WebApplication.CreateSlimBuilder().Build();
        app.MapGet("/read", () => "fine");
        app.MapPost("/audited", () => "fine").WithAuditAction("test.audited");
        ManagementAudit.EnsureEveryChangeIsAudited(app);

        app.MapDelete("/forgotten/{id}", (string id) => id);

        var error = Assert.Throws<InvalidOperationException>(() => ManagementAudit.EnsureEveryChangeIsAudited(app));
        Assert.Contains("/forgotten/{id}", error.Message, StringComparison.Ordinal);
    }

    private static (JsonNode Requested, JsonNode Done) Pair(List<JsonNode> records, string action, Func<JsonNode, bool> about)
    {
        var mine = records.Where(r => (string?)r["action"] == action).ToList();
        var done = mine.Single(r => (string?)r["outcome"] != "requested" && about(r));
        var requested = mine.Last(r => (string?)r["outcome"] == "requested" && (long)r["sequence"]! < (long)done["sequence"]!);
        return (requested, done);
    }

    private static StringContent JsonContent() => new("{\"name\":\"x\",\"uriPrefix\":\"/x\"}", System.Text.Encoding.UTF8, "application/json");
}
