using System.Net;
using System.Text;
using Coffer.Audit;
using Coffer.Storage;
using Coffer.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>
/// Access rules on the real XKS path (XKS spec, "Authorization"): calls signed by AWSSDK's
/// signer, rules set through the management API. Rules do not depend on the crypto backend, so this
/// runs on the software node only. Each test makes its own key store and key.
/// </summary>
public sealed class AccessRuleTests(SoftwareXksNode fixture) : IClassFixture<SoftwareXksNode>
{
    private const string EuCentralKeyArn = "arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-3333-4444-555555555555";
    private const string UsEastKeyArn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";

    private DevServer Node => fixture.Node;

    private IAuditRepository Audit => Node.Server.Seal.Storage.Audit;

    private async Task<(TestKeyStore Store, string KeyName, string KeyId)> NewKeyStoreAsync()
    {
        var store = await Node.CreateKeyStoreAsync("/" + Admin.Unique("rules"));
        var name = Admin.Unique("key");
        return (store, name, await Node.CreateKeyAsync(store.Id, name, "ENCRYPT", "DECRYPT"));
    }

    internal static async Task PutPolicyAsync(DevServer node, string path, string json)
    {
        using var response = await node.Admin.PutAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, $"PUT {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static Task<XksResponse> EncryptAsync(XksClient client, string key, string keyArn, string requestId)
    {
        var body = XksRequests.Encrypt([1, 2, 3], kmsRequestId: requestId);
        body["requestMetadata"]!["kmsKeyArn"] = keyArn;
        return client.PostAsync($"keys/{key}/encrypt", body);
    }

    private async Task<AuditEvent> RecordOfAsync(string kmsRequestId) =>
        Assert.Single((await Audit.QueryAsync(new AuditQuery { KmsRequestId = kmsRequestId })).Records).Event;

    [Fact]
    public async Task A_rule_allowing_only_eea_accepts_eu_central_1_and_denies_us_east_1_with_AccessDeniedException()
    {
        var (store, key, _) = await NewKeyStoreAsync();
        await PutPolicyAsync(Node, $"/api/v1/keystores/{store.Id}/policy", """{"rules":[{"name":"eea-only","effect":"allow","kmsKeyRegion":["eea"]}]}""");

        var allowedId = XksRequests.NewRequestId();
        var deniedId = XksRequests.NewRequestId();
        var allowed = await EncryptAsync(store.Client, key, EuCentralKeyArn, allowedId);
        var denied = await EncryptAsync(store.Client, key, UsEastKeyArn, deniedId);

        XksAssert.Ok(allowed);
        XksAssert.Error(denied, 403, "AccessDeniedException");
        var record = await RecordOfAsync(deniedId);
        Assert.Equal(AuditOutcome.Denied, record.Outcome);
        Assert.Equal("AccessDeniedException", record.ErrorName);
        Assert.Equal("no rule allowed", record.Reason);
        Assert.Equal("us-east-1", record.AwsRegion);
        Assert.Equal(AuditOutcome.Ok, (await RecordOfAsync(allowedId)).Outcome);
        Assert.Contains(Node.Logs.Lines, l => l.Contains(deniedId, StringComparison.Ordinal) && l.Contains("denied by access rules: no rule allowed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_deny_rule_is_named_in_the_audit_record_and_the_log_line()
    {
        var (store, key, _) = await NewKeyStoreAsync();
        await PutPolicyAsync(Node, $"/api/v1/keystores/{store.Id}/policy",
            """{"rules":[{"name":"all","effect":"allow"},{"name":"deny-us","effect":"deny","kmsKeyRegion":["us-*"]}]}""");

        var id = XksRequests.NewRequestId();
        XksAssert.Error(await EncryptAsync(store.Client, key, UsEastKeyArn, id), 403, "AccessDeniedException");

        Assert.Equal("rule=deny-us", (await RecordOfAsync(id)).Reason);
        Assert.Contains(Node.Logs.Lines, l => l.Contains(id, StringComparison.Ordinal) && l.Contains("rule=deny-us", StringComparison.Ordinal));
        XksAssert.Ok(await EncryptAsync(store.Client, key, EuCentralKeyArn, XksRequests.NewRequestId()));
    }

    [Fact]
    public async Task Health_is_never_subject_to_rules()
    {
        var (store, key, _) = await NewKeyStoreAsync();
        await PutPolicyAsync(Node, $"/api/v1/keystores/{store.Id}/policy", """{"rules":[{"name":"deny-all","effect":"deny"}]}""");

        XksAssert.Ok(await store.Client.HealthAsync());
        XksAssert.Error(await store.Client.GetKeyMetadataAsync(key), 403, "AccessDeniedException");
    }

    [Fact]
    public async Task A_key_s_rules_apply_to_that_key_only_on_top_of_its_key_store_s()
    {
        var (store, key, keyId) = await NewKeyStoreAsync();
        var other = Admin.Unique("other");
        await Node.CreateKeyAsync(store.Id, other, "ENCRYPT", "DECRYPT");
        await PutPolicyAsync(Node, $"/api/v1/keystores/{store.Id}/policy", """{"rules":[{"name":"all","effect":"allow"}]}""");
        await PutPolicyAsync(Node, $"/api/v1/keys/{keyId}/policy", """{"rules":[{"name":"no-metadata","effect":"deny","operation":["metadata"]}]}""");

        var id = XksRequests.NewRequestId();
        XksAssert.Error(await store.Client.GetKeyMetadataAsync(key, id), 403, "AccessDeniedException");
        Assert.Equal("rule=no-metadata", (await RecordOfAsync(id)).Reason);
        XksAssert.Ok(await store.Client.GetKeyMetadataAsync(other));
        XksAssert.Ok(await EncryptAsync(store.Client, key, EuCentralKeyArn, XksRequests.NewRequestId()));
    }

    [Fact]
    public async Task A_key_s_allow_rules_narrow_its_key_store_s_allow()
    {
        var (store, key, keyId) = await NewKeyStoreAsync();
        await PutPolicyAsync(Node, $"/api/v1/keystores/{store.Id}/policy", """{"rules":[{"name":"any-region","effect":"allow","kmsKeyRegion":["*"]}]}""");
        await PutPolicyAsync(Node, $"/api/v1/keys/{keyId}/policy", """{"rules":[{"name":"eea-only","effect":"allow","kmsKeyRegion":["eea"]}]}""");

        var id = XksRequests.NewRequestId();
        XksAssert.Error(await EncryptAsync(store.Client, key, UsEastKeyArn, id), 403, "AccessDeniedException");
        Assert.Equal("no rule allowed", (await RecordOfAsync(id)).Reason);
        XksAssert.Ok(await EncryptAsync(store.Client, key, EuCentralKeyArn, XksRequests.NewRequestId()));
    }

    [Fact]
    public async Task Rules_take_effect_at_once_and_clearing_them_restores_service()
    {
        var (store, key, _) = await NewKeyStoreAsync();
        XksAssert.Ok(await EncryptAsync(store.Client, key, UsEastKeyArn, XksRequests.NewRequestId()));

        await PutPolicyAsync(Node, $"/api/v1/keystores/{store.Id}/policy", """{"rules":[{"name":"eea","effect":"allow","kmsKeyRegion":["eea"]}]}""");
        XksAssert.Error(await EncryptAsync(store.Client, key, UsEastKeyArn, XksRequests.NewRequestId()), 403, "AccessDeniedException");

        using var cleared = await Node.Admin.DeleteAsync($"/api/v1/keystores/{store.Id}/policy");
        Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        XksAssert.Ok(await EncryptAsync(store.Client, key, UsEastKeyArn, XksRequests.NewRequestId()));
    }

    [Fact]
    public async Task A_malformed_key_ARN_is_denied_not_crashed()
    {
        var (store, key, _) = await NewKeyStoreAsync();
        await PutPolicyAsync(Node, $"/api/v1/keystores/{store.Id}/policy", """{"rules":[{"name":"eea","effect":"allow","kmsKeyRegion":["eea"]}]}""");

        var id = XksRequests.NewRequestId();
        XksAssert.Error(await EncryptAsync(store.Client, key, "arn:aws:kms:eu-central-1:not-an-account:key/x", id), 403, "AccessDeniedException");
        Assert.Equal("no rule allowed", (await RecordOfAsync(id)).Reason);
    }

    [Fact]
    public async Task A_caller_IP_rule_matches_the_loopback_caller()
    {
        var (store, key, _) = await NewKeyStoreAsync();
        await PutPolicyAsync(Node, $"/api/v1/keystores/{store.Id}/policy", """{"rules":[{"name":"office","effect":"allow","sourceIp":["10.0.0.0/8"]},{"name":"loopback","effect":"allow","operation":["metadata"],"sourceIp":["127.0.0.0/8","::1/128"]}]}""");

        XksAssert.Ok(await store.Client.GetKeyMetadataAsync(key));
        XksAssert.Error(await EncryptAsync(store.Client, key, EuCentralKeyArn, XksRequests.NewRequestId()), 403, "AccessDeniedException");
    }

    [Fact]
    public async Task The_signing_region_of_the_SigV4_scope_is_matched()
    {
        var (store, key, _) = await NewKeyStoreAsync();
        await PutPolicyAsync(Node, $"/api/v1/keystores/{store.Id}/policy", """{"rules":[{"name":"eu-callers","effect":"allow","signingRegion":["eea"]}]}""");

        XksAssert.Ok(await (store.Client with { Region = "eu-north-1" }).GetKeyMetadataAsync(key));
        XksAssert.Error(await (store.Client with { Region = "us-west-2" }).GetKeyMetadataAsync(key), 403, "AccessDeniedException");
    }
}

/// <summary>Rules are stored: a restarted node enforces them before any management call.</summary>
public sealed class AccessRuleRestartTests
{
    [Fact]
    public async Task Rules_survive_a_restart()
    {
        var node = await DevServer.StartAsync();
        try
        {
            var storeId = await node.KeyStoreIdAsync(node.Info.UriPrefix);
            await AccessRuleTests.PutPolicyAsync(node, $"/api/v1/keystores/{storeId}/policy", """{"rules":[{"name":"deny-all","effect":"deny"}]}""");

            node = await node.RestartAsync();

            XksAssert.Error(await XksClient.For(node).GetKeyMetadataAsync(node.Info.KeyId), 403, "AccessDeniedException");
            XksAssert.Ok(await XksClient.For(node).HealthAsync());
        }
        finally
        {
            await node.DisposeAsync();
        }
    }
}
