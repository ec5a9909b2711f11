using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Coffer.Server.Tests.Management;
using Coffer.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>
/// The kill switch: each scope blocks exactly what it names (InvalidStateException, audit
/// outcome denied with the switch's id), release restores at once, a restart keeps it — and data keys
/// AWS KMS issued before the switch cannot be unwrapped while it is engaged. The tests share one node
/// and run one at a time; after each, every switch still engaged is released (even after a failure), so
/// the next test starts on a node that serves everything. The restart test has a node of its own.
/// </summary>
public sealed class KillSwitchTests(SharedNode shared) : IClassFixture<SharedNode>, IAsyncLifetime
{
    private const string OtherRegionArn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";
    private const string OtherAccountPrincipal = "arn:aws:iam::210987654321:role/other-team";

    [Fact]
    public async Task Key_switch_blocks_that_key_only_with_InvalidStateException_and_release_restores_it()
    {
        var node = shared.Node;
        var xks = XksClient.For(node);
        var storeId = await node.KeyStoreIdAsync(node.Info.UriPrefix);
        var other = Admin.Unique("other");
        await node.CreateKeyAsync(storeId, other, "ENCRYPT", "DECRYPT");
        var demoId = await KeyIdAsync(node, node.Info.KeyId);

        var engaged = await EngageAsync(node, new { scope = "key", value = demoId, reason = "incident 42" });
        var blocked = await xks.EncryptAsync(node.Info.KeyId, RandomNumberGenerator.GetBytes(32));
        var metadataBlocked = await xks.GetKeyMetadataAsync(node.Info.KeyId);
        var otherKey = await xks.EncryptAsync(other, RandomNumberGenerator.GetBytes(32));
        var health = await xks.HealthAsync();

        XksAssert.Error(blocked, 400, "InvalidStateException");
        Assert.Contains("kill switch", blocked.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("incident 42", blocked.Body, StringComparison.Ordinal); // the reason is for administrators
        XksAssert.Error(metadataBlocked, 400, "InvalidStateException");
        XksAssert.Ok(otherKey);
        XksAssert.Ok(health);
        var record = (await node.Admin.GetJsonAsync($"/api/v1/audit/records?action=xks.encrypt&keyId={demoId}&limit=1"))["records"]![0]!;
        Assert.Equal("denied", (string)record["outcome"]!);
        Assert.Equal("kill-switch=" + (string)engaged["id"]!, (string)record["reason"]!);

        using var release = await node.Admin.PostAsync($"/api/v1/kill-switches/{(string)engaged["id"]!}/release", null);
        var released = await release.JsonAsync(HttpStatusCode.OK);
        Assert.False((bool)released["engaged"]!);
        XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, RandomNumberGenerator.GetBytes(32)));
    }

    [Theory]
    [InlineData("region", "us-east-1")]
    [InlineData("account", "210987654321")]
    [InlineData("principal", OtherAccountPrincipal)]
    [InlineData("vpc", "vpc-0blocked")]
    [InlineData("vpce", "vpce-0blocked")]
    public async Task Metadata_switch_blocks_only_calls_that_carry_what_it_names(string scope, string value)
    {
        var node = shared.Node;
        var xks = XksClient.For(node);
        await EngageAsync(node, new { scope, value, reason = "test" });

        var matching = Encrypt();
        var metadata = matching["requestMetadata"]!.AsObject();
        switch (scope)
        {
            case "region": metadata["kmsKeyArn"] = OtherRegionArn; break;
            case "account": metadata["awsPrincipalArn"] = OtherAccountPrincipal; break;
            case "principal": metadata["awsPrincipalArn"] = OtherAccountPrincipal; break;
            case "vpc": metadata["awsSourceVpc"] = value; break;
            case "vpce": metadata["awsSourceVpce"] = value; break;
        }

        XksAssert.Error(await xks.PostAsync($"keys/{node.Info.KeyId}/encrypt", matching), 400, "InvalidStateException");
        XksAssert.Ok(await xks.PostAsync($"keys/{node.Info.KeyId}/encrypt", Encrypt()));
    }

    [Fact]
    public async Task Region_switch_may_name_a_region_set_such_as_eea()
    {
        var node = shared.Node;
        var xks = XksClient.For(node);
        await EngageAsync(node, new { scope = "region", value = "eea", reason = "EEA keys frozen" });

        var outside = Encrypt();
        outside["requestMetadata"]!["kmsKeyArn"] = OtherRegionArn; // us-east-1

        XksAssert.Error(await xks.EncryptAsync(node.Info.KeyId, [1]), 400, "InvalidStateException"); // eu-west-1
        XksAssert.Ok(await xks.PostAsync($"keys/{node.Info.KeyId}/encrypt", outside));
        using var unknown = await node.Admin.PostJsonAsync("/api/v1/kill-switches", new { scope = "region", value = "atlantis", reason = "r" });
        Assert.Contains("region set", (string)(await unknown.ProblemAsync(HttpStatusCode.BadRequest))["detail"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Principal_switch_with_a_wildcard_blocks_every_principal_it_covers_and_serves_other_accounts()
    {
        var node = shared.Node;
        var xks = XksClient.For(node);
        await EngageAsync(node, new { scope = "principal", value = "arn:aws:iam::111122223333:role/*", reason = "roles of 111122223333" });

        var covered = Encrypt();
        covered["requestMetadata"]!["awsPrincipalArn"] = "arn:aws:iam::111122223333:role/app-x";
        var otherAccount = Encrypt();
        otherAccount["requestMetadata"]!["awsPrincipalArn"] = "arn:aws:iam::210987654321:role/app-x";

        XksAssert.Error(await xks.PostAsync($"keys/{node.Info.KeyId}/encrypt", covered), 400, "InvalidStateException");
        XksAssert.Ok(await xks.PostAsync($"keys/{node.Info.KeyId}/encrypt", otherAccount));
    }

    [Fact]
    public async Task Region_switch_refuses_an_unknown_region_and_takes_a_user_region_set_that_names_it()
    {
        var node = shared.Node;
        var xks = XksClient.For(node);

        using var unknown = await node.Admin.PostJsonAsync("/api/v1/kill-switches", new { scope = "region", value = "eu-west-9", reason = "typo" });
        var problem = await unknown.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("'eu-west-9' is neither a known AWS region", (string)problem["detail"]!, StringComparison.Ordinal);
        Assert.Empty((await node.Admin.GetJsonAsync("/api/v1/kill-switches")).AsArray());

        using (var set = await node.Admin.PutAsJsonAsync("/api/v1/region-sets/future", new { regions = new[] { "eu-west-9" } }))
        {
            await set.JsonAsync(HttpStatusCode.OK);
        }

        await EngageAsync(node, new { scope = "region", value = "future", reason = "the new region" });
        var inSet = Encrypt();
        inSet["requestMetadata"]!["kmsKeyArn"] = "arn:aws:kms:eu-west-9:123456789012:key/11111111-2222-3333-4444-555555555555";

        XksAssert.Error(await xks.PostAsync($"keys/{node.Info.KeyId}/encrypt", inSet), 400, "InvalidStateException");
        XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, [1])); // eu-west-1
        using var delete = await node.Admin.DeleteAsync("/api/v1/region-sets/future"); // the switch would block nothing after a restart
        Assert.Contains("engaged kill switch", (string)(await delete.ProblemAsync(HttpStatusCode.Conflict))["detail"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Account_switch_also_matches_the_account_of_the_KMS_key_ARN()
    {
        var node = shared.Node;
        var xks = XksClient.For(node);
        await EngageAsync(node, new { scope = "account", value = "123456789012", reason = "test" });

        XksAssert.Error(await xks.EncryptAsync(node.Info.KeyId, RandomNumberGenerator.GetBytes(32)), 400, "InvalidStateException");
    }

    [Fact]
    public async Task Key_store_switch_and_the_all_switch_block_what_they_name_and_survive_a_restart()
    {
        // A node of its own: it restarts.
        var node = await DevServer.StartAsync();
        var second = await node.CreateKeyStoreAsync("/second");
        var secondKey = Admin.Unique("k");
        await node.CreateKeyAsync(second.Id, secondKey, "ENCRYPT", "DECRYPT");
        var demoStore = await node.KeyStoreIdAsync(node.Info.UriPrefix);

        var byStore = await EngageAsync(node, new { scope = "keystore", value = demoStore, reason = "store" });
        XksAssert.Error(await XksClient.For(node).EncryptAsync(node.Info.KeyId, [1, 2, 3]), 400, "InvalidStateException");
        XksAssert.Ok(await second.Client.EncryptAsync(secondKey, [1, 2, 3]));

        await EngageAsync(node, new { scope = "all", reason = "everything" });
        XksAssert.Error(await second.Client.EncryptAsync(secondKey, [1, 2, 3]), 400, "InvalidStateException");

        await using var restarted = await node.RestartAsync();
        var list = (await restarted.Admin.GetJsonAsync("/api/v1/kill-switches")).AsArray();
        Assert.Equal(2, list.Count);
        Assert.Equal(byStore["id"]!.ToString(), list[0]!["id"]!.ToString());
        Assert.Equal("store", (string)list[0]!["reason"]!);
        Assert.False(string.IsNullOrEmpty((string?)list[0]!["engagedBy"]));
        XksAssert.Error(await XksClient.For(restarted).EncryptAsync(node.Info.KeyId, [1, 2, 3]), 400, "InvalidStateException");
        var secondAfterRestart = second.Client with { BaseUrl = new Uri(restarted.XksUrl, second.Client.BaseUrl.AbsolutePath) };
        XksAssert.Error(await secondAfterRestart.EncryptAsync(secondKey, [1, 2, 3]), 400, "InvalidStateException");
        XksAssert.Ok(await XksClient.For(restarted).HealthAsync());
    }

    [Fact]
    public async Task Data_keys_AWS_KMS_issued_before_the_switch_stay_unreadable_until_it_is_released()
    {
        var node = shared.Node;
        var kms = new ExternalKeyStoreKms(XksClient.For(node), node.Info.KeyId);
        var (dataKey, blob) = await kms.GenerateDataKeyAsync();
        Assert.Equal(dataKey, await kms.DecryptAsync(blob));

        var engaged = await EngageAsync(node, new { scope = "all", reason = "cut AWS off" });
        var whileEngaged = await kms.TryDecryptAsync(blob);
        XksAssert.Error(whileEngaged.Response!, 400, "InvalidStateException");
        Assert.Null(whileEngaged.DataKey);

        using (await node.Admin.PostAsync($"/api/v1/kill-switches/{(string)engaged["id"]!}/release", null))
        {
        }

        Assert.Equal(dataKey, await kms.DecryptAsync(blob));
    }

    [Fact]
    public async Task Unknown_key_store_or_switch_is_404_and_a_second_release_is_409()
    {
        var node = shared.Node;
        var history = (await node.Admin.GetJsonAsync("/api/v1/kill-switches?all=true")).AsArray().Count;

        using var unknownStore = await node.Admin.PostJsonAsync("/api/v1/kill-switches", new { scope = "keystore", value = "ks_nosuchstore", reason = "r" });
        await unknownStore.ProblemAsync(HttpStatusCode.NotFound);
        using var unknownSwitch = await node.Admin.PostAsync("/api/v1/kill-switches/kill_nosuchswitch/release", null);
        await unknownSwitch.ProblemAsync(HttpStatusCode.NotFound);

        var engaged = await EngageAsync(node, new { scope = "all", reason = "r" });
        using (await node.Admin.PostAsync($"/api/v1/kill-switches/{(string)engaged["id"]!}/release", null))
        {
        }

        using var again = await node.Admin.PostAsync($"/api/v1/kill-switches/{(string)engaged["id"]!}/release", null);
        await again.ProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(history + 1, (await node.Admin.GetJsonAsync("/api/v1/kill-switches?all=true")).AsArray().Count);
        Assert.Empty((await node.Admin.GetJsonAsync("/api/v1/kill-switches")).AsArray());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => shared.Node.ReleaseEngagedKillSwitchesAsync();

    private static JsonObject Encrypt() => XksRequests.Encrypt(RandomNumberGenerator.GetBytes(32));

    private static async Task<JsonNode> EngageAsync(DevServer node, object body)
    {
        using var response = await node.Admin.PostAsJsonAsync("/api/v1/kill-switches", body);
        return await response.JsonAsync(HttpStatusCode.Created);
    }

    private static async Task<string> KeyIdAsync(DevServer node, string name)
    {
        var keys = await node.Admin.GetJsonAsync("/api/v1/keys?q=" + Uri.EscapeDataString(name));
        return (string)keys["keys"]!.AsArray().Single(k => (string)k!["name"]! == name)!["id"]!;
    }
}
