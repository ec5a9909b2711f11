using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Coffer.Audit;
using Coffer.Storage;
using Coffer.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>
/// Every XKS call — answered, refused or failed — is an audit record before it is answered
/// (docs/design.md, "Audit"): who (access key id), which key store, key and version, the
/// whole requestMetadata with the key ARN's account and region split out, outcome, error, latency,
/// source address; never plaintext, AAD or a secret.
/// </summary>
public abstract class AuditTests(XksNodeFixture fixture)
{
    private readonly XksClient _xks = fixture.Client;
    private readonly string _key = fixture.DemoKey;

    private IAuditRepository Audit => fixture.Node.Server.Seal.Storage.Audit;

    private async Task<string> DemoKeyIdAsync() =>
        (await fixture.Node.Server.Seal.Storage.Keys.FindKeyAsync(fixture.DemoKeyStoreId, _key))!.Id;

    private async Task<AuditRecord> RecordOfAsync(string kmsRequestId)
    {
        var page = await Audit.QueryAsync(new AuditQuery { KmsRequestId = kmsRequestId });
        return Assert.Single(page.Records);
    }

    [Fact]
    public async Task An_encrypt_is_recorded_with_the_caller_the_key_version_and_the_whole_request_metadata()
    {
        var id = XksRequests.NewRequestId();
        var body = XksRequests.Encrypt([1, 2, 3], kmsRequestId: id);
        var metadata = body["requestMetadata"]!.AsObject();
        metadata["kmsViaService"] = "ebs";
        metadata["awsSourceVpc"] = "vpc-0a1b2c3d";
        metadata["awsSourceVpce"] = "vpce-0a1b2c3d4e";
        XksAssert.Ok(await _xks.PostAsync($"keys/{_key}/encrypt", body));

        var record = await RecordOfAsync(id);
        var e = record.Event;
        Assert.Equal(AuditActions.XksEncrypt, e.Action);
        Assert.Equal(AuditOutcome.Ok, e.Outcome);
        Assert.Null(e.ErrorName);
        Assert.Equal(AuditActorKinds.Xks, e.ActorKind);
        Assert.Equal(_xks.AccessKeyId, e.ActorId);
        Assert.Equal(fixture.DemoKeyStoreId, e.KeyStore);
        Assert.Equal(await DemoKeyIdAsync(), e.KeyId);
        Assert.Equal("externalKeyId=" + _key, e.Details);
        Assert.Equal(1, e.KeyVersion);
        Assert.Equal(XksClient.DefaultPrincipal, e.AwsPrincipalArn);
        Assert.Equal(XksClient.DefaultKmsKeyArn, e.KmsKeyArn);
        Assert.Equal("eu-west-1", e.AwsRegion);
        Assert.Equal("123456789012", e.AwsAccount);
        Assert.Equal("Encrypt", e.KmsOperation);
        Assert.Equal("ebs", e.KmsViaService);
        Assert.Equal("vpc-0a1b2c3d", e.AwsSourceVpc);
        Assert.Equal("vpce-0a1b2c3d4e", e.AwsSourceVpce);
        Assert.Equal("127.0.0.1", e.SourceIp);
        Assert.True(e.LatencyMs > 0);
    }

    [Theory]
    [InlineData("metadata", "xks.metadata")]
    [InlineData("decrypt", "xks.decrypt")]
    public async Task Each_key_operation_is_recorded_under_its_action(string path, string action)
    {
        var id = XksRequests.NewRequestId();
        var sealedData = await _xks.MustEncryptAsync(_key, [1]);
        var body = path == "metadata" ? XksRequests.GetKeyMetadata(id) : XksRequests.Decrypt(sealedData, kmsRequestId: id);
        XksAssert.Ok(await _xks.PostAsync($"keys/{_key}/{path}", body));

        var e = (await RecordOfAsync(id)).Event;
        Assert.Equal(action, e.Action);
        Assert.Equal(AuditOutcome.Ok, e.Outcome);
        Assert.Equal(await DemoKeyIdAsync(), e.KeyId);
        Assert.Equal(path == "decrypt" ? 1 : null, e.KeyVersion);
    }

    [Fact]
    public async Task A_health_call_is_recorded_without_a_key()
    {
        var id = XksRequests.NewRequestId();
        XksAssert.Ok(await _xks.HealthAsync(id));

        var e = (await RecordOfAsync(id)).Event;
        Assert.Equal(AuditActions.XksHealth, e.Action);
        Assert.Null(e.KeyId);
        Assert.Null(e.Details);
        Assert.Equal(fixture.DemoKeyStoreId, e.KeyStore);
    }

    [Fact]
    public async Task A_failed_call_is_recorded_with_the_error_the_caller_saw()
    {
        var id = XksRequests.NewRequestId();
        XksAssert.Error(await _xks.EncryptAsync("no-such-key", [1], kmsRequestId: id), 404, "KeyNotFoundException");

        var e = (await RecordOfAsync(id)).Event;
        Assert.Equal(AuditOutcome.Error, e.Outcome);
        Assert.Equal("KeyNotFoundException", e.ErrorName);
        Assert.Null(e.KeyId);
        Assert.Equal("externalKeyId=no-such-key", e.Details);
        Assert.Equal(_xks.AccessKeyId, e.ActorId);
    }

    [Fact]
    public async Task A_call_with_a_bad_signature_is_counted_as_anonymous_with_the_reason()
    {
        var forged = _xks with { SecretAccessKey = "not-the-secret-" + Guid.NewGuid().ToString("N") };
        XksAssert.Error(await forged.EncryptAsync(_key, [1], kmsRequestId: XksRequests.NewRequestId()), 401, "AuthenticationFailedException");
        await fixture.Node.Server.AnonymousFailures.FlushAsync();

        // The body is not trusted before the signature is, so the record carries no request metadata;
        // unauthenticated requests are counted per interval (AnonymousTrafficTests), not recorded one by one.
        var records = (await Audit.QueryAsync(new AuditQuery { Action = AuditActions.XksUnauthenticated, Limit = 1000 })).Records;
        var e = Assert.Single(records, r => r.Event.ErrorName == "AuthenticationFailedException" && r.Event.Reason == "SignatureMismatch"
            && r.Event.KeyStore == fixture.DemoKeyStoreId && r.Event.KmsRequestId is null).Event;
        Assert.Equal(AuditActorKinds.Anonymous, e.ActorKind);
        Assert.Null(e.ActorId);
        Assert.Contains($"/keys/{_key}/encrypt", e.Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_record_holds_plaintext_aad_or_a_secret()
    {
        var marker = "coffer-audit-marker-" + Guid.NewGuid().ToString("N");
        var plaintext = Encoding.UTF8.GetBytes(marker);
        var aad = Encoding.UTF8.GetBytes(marker + "-aad");
        var sealedData = await _xks.MustEncryptAsync(_key, plaintext, aad, cdiv: true);
        XksAssert.Ok(await _xks.DecryptAsync(_key, sealedData, aad));
        XksAssert.Error(await _xks.DecryptAsync(_key, sealedData with { AuthenticationTag = RandomNumberGenerator.GetBytes(16) }, aad), 400, "InvalidCiphertextException");

        var forbidden = new[]
        {
            marker, Convert.ToBase64String(plaintext), Convert.ToBase64String(aad), _xks.SecretAccessKey,
            Convert.ToBase64String(sealedData.Ciphertext), Convert.ToBase64String(sealedData.AuthenticationTag),
        };
        var texts = (await Audit.QueryAsync(new AuditQuery { Limit = 10_000 })).Records
            .SelectMany(r => typeof(AuditEvent).GetProperties().Where(p => p.PropertyType == typeof(string)).Select(p => (string?)p.GetValue(r.Event)))
            .OfType<string>()
            .ToList();
        Assert.NotEmpty(texts);
        Assert.All(forbidden, f => Assert.DoesNotContain(texts, t => t.Contains(f, StringComparison.Ordinal)));
    }
}

/// <summary>
/// Fail closed: while the audit store cannot be written, XKS calls answer 503
/// DependencyTimeoutException, which AWS KMS retries — the ciphertext never reaches the caller
/// unrecorded — and nothing is recorded half; service resumes by itself once the store is writable again.
/// </summary>
public abstract class AuditFaultTests(string backend) : IAsyncLifetime
{
    private DevServer _node = null!;
    private XksClient _xks = null!;

    public async Task InitializeAsync()
    {
        _node = await DevServer.StartAsync(backend: backend);
        _xks = XksClient.For(_node);
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task While_the_audit_store_is_locked_encrypt_fails_with_DependencyTimeoutException_and_resumes_after()
    {
        var key = _node.Info.KeyId;
        XksAssert.Ok(await _xks.EncryptAsync(key, [1]));
        var head = _node.Server.Audit.Head;

        var blocked = await AuditStoreLock.WhileLockedAsync(_node, () => _xks.EncryptAsync(key, [2]));

        XksAssert.Error(blocked, 503, "DependencyTimeoutException");
        Assert.Equal("Coffer cannot reach its audit store, so the request was not carried out; retry shortly.", blocked.ErrorMessage);
        Assert.Equal(head.Sequence, _node.Server.Audit.Head.Sequence);
        Assert.Equal(head.Hash, _node.Server.Audit.Head.Hash);
        Assert.Contains(_node.Logs.Lines, l => l.Contains("[2004]", StringComparison.Ordinal));

        var id = XksRequests.NewRequestId();
        XksAssert.Ok(await _xks.EncryptAsync(key, [3], kmsRequestId: id));
        var records = (await _node.Server.Seal.Storage.Audit.QueryAsync(new AuditQuery { KmsRequestId = id })).Records;
        Assert.Equal(head.Sequence + 1, Assert.Single(records).Sequence);
    }

    [Fact]
    public async Task While_the_audit_store_is_locked_health_answers_UNAVAILABLE_without_its_record()
    {
        XksAssert.Ok(await _xks.HealthAsync());
        var head = _node.Server.Audit.Head;

        var health = await AuditStoreLock.WhileLockedAsync(_node, () => _xks.HealthAsync());

        // A node that cannot audit serves no key call: it says so rather than answer an error (docs/cluster.md).
        XksAssert.Ok(health);
        Assert.Equal("UNAVAILABLE", health.Json.GetProperty("ekmFleetDetails")[0].GetProperty("healthStatus").GetString());
        Assert.Equal(head.Sequence, _node.Server.Audit.Head.Sequence);
        Assert.Contains(_node.Logs.Lines, l => l.Contains("[2006]", StringComparison.Ordinal));
        Assert.Equal("ACTIVE", XksAssert.Ok(await _xks.HealthAsync()).GetProperty("ekmFleetDetails")[0].GetProperty("healthStatus").GetString());
    }
}
