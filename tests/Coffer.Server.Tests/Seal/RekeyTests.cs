using System.Net;
using System.Text.Json.Nodes;
using Coffer.Crypto;
using Coffer.Server.Seal;
using Coffer.Server.Tests.Alerts;
using Coffer.Server.Tests.Approvals;
using Coffer.Server.Tests.Audit;
using Coffer.Server.Tests.Management;
using Coffer.Server.Tests.Xks;
using Coffer.Storage;
using Coffer.Testing;
using Xunit.Abstractions;

namespace Coffer.Server.Tests.Seal;

/// <summary>
/// <c>coffer rekey</c> on one node with the dev seal (docs/master-key.md, "coffer rekey"): XKS calls
/// signed by AWSSDK's signer go on without a failure while every sealed row is sealed again, after
/// which the old master key (read from the dev seal's file before) opens nothing stored, and a rekey
/// stopped halfway leaves every key serving and is finished by a rerun.
/// </summary>
public sealed class RekeyTests(ITestOutputHelper output)
{
    private const int Clients = 8;

    [Fact]
    public async Task A_rekey_under_XKS_load_fails_no_call_and_afterwards_the_old_master_key_opens_nothing_stored()
    {
        // Disposed by its restart, at the end.
        var node = await DevServer.StartAsync();
        var xks = XksClient.For(node);
        var keys = await KeysWithVersionsAsync(node, 4);
        var before = await xks.MustEncryptAsync(node.Info.KeyId, "made before the rekey"u8.ToArray());
        var webhook = (string)(await node.Admin.AddWebhookAsync("https://hooks.example.com/coffer"))["id"]!;
        var (requester, approval) = await KeptCredentialAnswerAsync(node);
        var archive = await node.Admin.PostJsonAsync("/api/v1/audit/archives", new { });
        await archive.JsonAsync(HttpStatusCode.Created);
        Assert.True((bool)(await node.Admin.VerifyAsync())["ok"]!); // leaves a verified checkpoint under the old key
        var oldKey = await File.ReadAllBytesAsync(Path.Combine(node.DataDirectory, "master.key"));
        var storage = node.Server.Seal.Storage;
        var sealedBefore = await storage.SealedData.ListAsync();

        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, Clients).Select(i => EncryptAndDecryptAsync(xks, keys[i % keys.Count], stop.Token)).ToArray();
        await Task.Delay(200);
        var took = System.Diagnostics.Stopwatch.StartNew();
        var rekey = await (await node.Admin.PostJsonAsync("/api/v1/sys/rekey", new { })).JsonAsync(HttpStatusCode.OK);
        took.Stop();
        await Task.Delay(200);
        await stop.CancelAsync();
        var calls = await Task.WhenAll(load);
        output.WriteLine($"rekey of {(int)rekey["resealed"]!} stored values under {Clients} XKS clients: {took.ElapsedMilliseconds} ms; {calls.Sum(c => c.Ok)} encrypt+decrypt pairs, {calls.Sum(c => c.Failures.Count)} failed");

        Assert.True((bool)rekey["done"]!, rekey.ToJsonString());
        Assert.Equal(sealedBefore.Count, (int)rekey["resealed"]!);
        Assert.Equal(0, (int)rekey["unopenable"]!);
        Assert.All(calls, c => Assert.True(c.Failures.Count == 0 && c.Ok > 0, $"{c.Ok} ok, failures: {string.Join("; ", c.Failures.Take(3))}"));
        XksAssert.Ok(await xks.DecryptAsync(node.Info.KeyId, before));

        var newKey = await File.ReadAllBytesAsync(Path.Combine(node.DataDirectory, "master.key"));
        Assert.NotEqual(oldKey, newKey);
        await AssertEverythingUnderOnlyAsync(storage, newKey, oldKey);
        Assert.Null(await storage.System.GetSettingAsync(SettingNames.MasterNext));
        Assert.Null(await storage.System.GetSettingAsync(SettingNames.MasterRetired));

        var secret = await storage.Alerts.GetWebhookAsync(webhook);
        Assert.NotEmpty(await node.Server.Seal.OpenSecretAsync(SealPurpose.WebhookSecret, webhook, secret!.SealedSecret));
        using (var kept = await requester.PostAsync($"/api/v1/approvals/{approval}/result", null))
        {
            var credential = await kept.JsonAsync(HttpStatusCode.OK);
            var signer = xks with { AccessKeyId = (string)credential["accessKeyId"]!, SecretAccessKey = (string)credential["secretAccessKey"]! };
            Assert.Equal(200, (await signer.HealthAsync()).Status);
        }

        Assert.True((bool)(await node.Admin.VerifyAsync())["ok"]!);
        Assert.True((bool)(await node.Admin.VerifyAsync(full: true))["ok"]!);
        Assert.True((bool)(await node.Admin.GetJsonAsync("/api/v1/audit/verify?archives=true"))["ok"]!);
        var steps = (await node.Admin.AllRecordsAsync("&action=seal.rekey")).Select(r => (string?)r["details"]).ToList();
        Assert.Contains(steps, d => d!.Contains($"rekey done: {sealedBefore.Count} values sealed again", StringComparison.Ordinal));
        foreach (var phase in new[] { "seal.rekey.prepare", "seal.rekey.switch", "seal.rekey.reseal", "seal.rekey.retire" })
        {
            Assert.Single(await node.Admin.AllRecordsAsync("&action=" + phase));
        }

        var restarted = await node.RestartAsync();
        try
        {
            Assert.False(restarted.Server.IsSealed);
            XksAssert.Ok(await XksClient.For(restarted).DecryptAsync(restarted.Info.KeyId, before));
            Assert.True((bool)(await restarted.Admin.VerifyAsync(full: true))["ok"]!);
        }
        finally
        {
            await restarted.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_rekey_stopped_halfway_leaves_every_key_serving_after_a_restart_and_a_rerun_finishes_it()
    {
        // Disposed by its restart.
        var node = await DevServer.StartAsync();
        // 59 versions' material and a credential: more than one chunk of the re-seal (50).
        var keys = await KeysWithVersionsAsync(node, 30);
        var xks = XksClient.For(node);
        var made = new List<(string Key, XksEncrypted Ciphertext)>();
        foreach (var key in keys)
        {
            made.Add((key, await xks.MustEncryptAsync(key, [1, 2, 3])));
        }

        var oldKey = await File.ReadAllBytesAsync(Path.Combine(node.DataDirectory, "master.key"));
        node.Server.Seal.AfterChunkResealed = count => throw new IOException($"the node stopped here, after {count} values");
        using (var stopped = await node.Admin.PostJsonAsync("/api/v1/sys/rekey", new { }))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, stopped.StatusCode);
        }

        // As if the dev seal's file had not been renamed yet when the node stopped: it holds the old key,
        // which still unseals (master.next leads from it to the new one).
        var keyFile = Path.Combine(node.DataDirectory, "master.key");
        await using var restarted = await node.RestartAsync(whileStopped: () => File.WriteAllBytes(keyFile, oldKey));
        var storage = restarted.Server.Seal.Storage;
        Assert.False(restarted.Server.IsSealed);
        Assert.Equal("switched", (string?)(await restarted.Admin.GetJsonAsync("/api/v1/sys/rekey"))["phase"]);
        var values = await storage.SealedData.ListAsync();
        var underOld = values.Count(v => Opens(oldKey, v));
        Assert.True(underOld > 0 && underOld < values.Count, $"{underOld} of {values.Count} values under the old key: the stop was not halfway");
        var client = XksClient.For(restarted);
        foreach (var (key, ciphertext) in made)
        {
            XksAssert.Ok(await client.DecryptAsync(key, ciphertext));
            XksAssert.Ok(await client.EncryptAsync(key, [4]));
        }

        var rerun = await (await restarted.Admin.PostJsonAsync("/api/v1/sys/rekey", new { })).JsonAsync(HttpStatusCode.OK);
        Assert.True((bool)rerun["resumed"]!, rerun.ToJsonString());
        Assert.Equal(underOld, (int)rerun["resealed"]!);
        Assert.Null(await storage.System.GetSettingAsync(SettingNames.MasterRetired));
        var newKey = await File.ReadAllBytesAsync(keyFile);
        Assert.NotEqual(oldKey, newKey); // the rerun wrote the file again before it retired the old key
        await AssertEverythingUnderOnlyAsync(storage, newKey, oldKey);
        Assert.True((bool)(await restarted.Admin.VerifyAsync(full: true))["ok"]!);
    }

    [Fact]
    public async Task A_second_rekey_while_one_runs_a_caller_without_the_permission_and_shares_for_the_dev_seal_are_refused()
    {
        await using var node = await DevServer.StartAsync();
        using var release = new SemaphoreSlim(0);
        using var reached = new SemaphoreSlim(0);
        var chunks = 0;
        node.Server.Seal.AfterChunkResealed = _ =>
        {
            if (Interlocked.Exchange(ref chunks, 1) == 0)
            {
                reached.Release();
                release.Wait(TimeSpan.FromSeconds(30));
            }
        };
        var first = node.Admin.PostJsonAsync("/api/v1/sys/rekey", new { });
        Assert.True(await reached.WaitAsync(TimeSpan.FromSeconds(30)));

        using (var second = await node.Admin.PostJsonAsync("/api/v1/sys/rekey", new { }))
        {
            Assert.Contains("already running", (string?)(await second.ProblemAsync(HttpStatusCode.Conflict))["detail"], StringComparison.Ordinal);
        }

        release.Release();
        using (var done = await first)
        {
            Assert.True((bool)(await done.JsonAsync(HttpStatusCode.OK))["done"]!);
        }

        node.Server.Seal.AfterChunkResealed = null;
        var check = await node.Server.Seal.Storage.System.GetSettingAsync(SettingNames.MasterCheck);
        using var officer = await ApprovalApi.ClientOfRoleAsync(node, "key-officer");
        using (var forbidden = await officer.PostJsonAsync("/api/v1/sys/rekey", new { }))
        {
            await forbidden.ProblemAsync(HttpStatusCode.Forbidden);
        }

        using (var shares = await node.Admin.PostJsonAsync("/api/v1/sys/rekey", new { shares = 3, threshold = 2 }))
        {
            Assert.Contains("has no shares", (string?)(await shares.ProblemAsync(HttpStatusCode.BadRequest))["detail"], StringComparison.Ordinal);
        }

        await node.Server.Seal.SealAsync();
        using (var whileSealed = await node.Admin.PostJsonAsync("/api/v1/sys/rekey", new { }))
        {
            Assert.False(whileSealed.IsSuccessStatusCode);
            Assert.Contains("sealed", (string?)(await whileSealed.Content.ReadAsStringAsync()), StringComparison.OrdinalIgnoreCase);
        }

        Assert.Equal(check, await node.Server.Seal.Storage.System.GetSettingAsync(SettingNames.MasterCheck));
    }

    /// <summary>Every sealed row opens with <paramref name="current"/> and none with <paramref name="old"/>.</summary>
    internal static async Task AssertEverythingUnderOnlyAsync(ICofferStorage storage, byte[] current, byte[] old)
    {
        var values = await storage.SealedData.ListAsync();
        Assert.NotEmpty(values);
        Assert.All(values, v => Assert.True(Opens(current, v) && !Opens(old, v), $"{v.Kind} {v.Id} v{v.Version}"));
        using var oldKey = MasterKey.FromBytes(old);
        Assert.False(oldKey.MatchesCheckValue(Convert.FromBase64String((await storage.System.GetSettingAsync(SettingNames.MasterCheck))!)));
    }

    internal static bool Opens(byte[] master, SealedValue value)
    {
        using var key = MasterKey.FromBytes(master);
        var (purpose, context) = value.Kind switch
        {
            SealedValueKind.KeyMaterial => (SealPurpose.KeyMaterial, SoftwareCryptoBackend.Context(value.Id, value.Version)),
            SealedValueKind.SigV4Secret => (SealPurpose.SigV4Secret, value.Id),
            SealedValueKind.WebhookSecret => (SealPurpose.WebhookSecret, value.Id),
            _ => (SealPurpose.ApprovalResult, value.Id),
        };
        try
        {
            key.Open(purpose, context, value.Bytes);
            return true;
        }
        catch (CryptoException)
        {
            return false;
        }
    }

    // The demo key and new keys of the demo key store, each but the demo key rotated once (two versions).
    internal static async Task<List<string>> KeysWithVersionsAsync(DevServer node, int count)
    {
        var store = await node.KeyStoreIdAsync(node.Info.UriPrefix);
        var keys = new List<string> { node.Info.KeyId };
        for (var i = 1; i < count; i++)
        {
            var name = ManagementApi.Unique("rekey");
            var id = await node.CreateKeyAsync(store, name, "ENCRYPT", "DECRYPT");
            using var rotated = await node.Admin.PostAsync($"/api/v1/keys/{id}/rotate", null);
            rotated.EnsureSuccessStatusCode();
            keys.Add(name);
        }

        return keys;
    }

    // A credential made through an approval, whose answer (with its secret) is kept sealed for its requester.
    private static async Task<(HttpClient Requester, string Approval)> KeptCredentialAnswerAsync(DevServer node)
    {
        var store = await node.KeyStoreIdAsync(node.Info.UriPrefix);
        await node.Admin.PutQuorumAsync("guard", ["credential.add"], 1, "custodians");
        var (requester, _) = await ApprovalApi.UserAsync(node, "key-officer", "custodians");
        var (approver, _) = await ApprovalApi.UserAsync(node, "approver", "custodians");
        using var held = await requester.PostAsync($"/api/v1/keystores/{store}/credentials", null);
        var id = (string)(await held.JsonAsync(HttpStatusCode.Accepted))["id"]!;
        using var approved = await approver.PostJsonAsync($"/api/v1/approvals/{id}/approve", new { comment = "for the rekey test" });
        Assert.Equal("executed", (string?)(await approved.JsonAsync(HttpStatusCode.OK))["state"]);
        return (requester, id);
    }

    // One client's encrypts and decrypts until stopped (at most 2,000 pairs): the calls that did not answer 200.
    internal static async Task<(int Ok, List<string> Failures)> EncryptAndDecryptAsync(XksClient xks, string key, CancellationToken stop)
    {
        var (ok, failures) = (0, new List<string>());
        for (var i = 0; i < 2000 && !stop.IsCancellationRequested; i++)
        {
            var encrypted = await xks.EncryptAsync(key, BitConverter.GetBytes(i));
            if (encrypted.Status != 200)
            {
                failures.Add($"encrypt {encrypted.Status}: {encrypted.Body}");
                continue;
            }

            var decrypted = await xks.DecryptAsync(key, XksEncrypted.From(encrypted));
            if (decrypted.Status != 200)
            {
                failures.Add($"decrypt {decrypted.Status}: {decrypted.Body}");
                continue;
            }

            ok++;
        }

        return (ok, failures);
    }
}
