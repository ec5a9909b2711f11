using System.Net.Http.Json;
using Coffer.Server.Tests.Management;
using Coffer.Testing;
using Microsoft.Extensions.Options;

namespace Coffer.Server.Tests.Xks;

/// <summary>NIST SP 800-38D's bound on random IVs, enforced per key version through the real server:
/// a version that has made Xks.MaxEncryptionsPerKeyVersion encryptions stops encrypting (decrypt goes
/// on), a rotation gives encryptions a new version, and a restart does not give the old one more.</summary>
public sealed class EncryptionBudgetTests
{
    [Fact]
    public async Task A_version_stops_encrypting_at_its_limit_decrypts_on_and_a_rotation_or_a_restart_does_not_reset_it()
    {
        var node = await DevServer.StartAsync(o => o.Xks.MaxEncryptionsPerKeyVersion = 3);
        try
        {
            var xks = XksClient.For(node);
            var made = new List<XksEncrypted>();
            for (var i = 0; i < 3; i++)
            {
                made.Add(await xks.MustEncryptAsync(node.Info.KeyId, [(byte)i, 2, 3]));
            }

            var refused = await xks.EncryptAsync(node.Info.KeyId, [9, 9, 9]);
            XksAssert.Error(refused, 400, "InvalidStateException");
            Assert.Contains("NIST SP 800-38D", refused.ErrorMessage, StringComparison.Ordinal);
            XksAssert.Ok(await xks.DecryptAsync(node.Info.KeyId, made[2]));

            var keyStoreId = await node.KeyStoreIdAsync(node.Info.UriPrefix);
            var keyId = (await node.Server.Seal.Storage.Keys.FindKeyAsync(keyStoreId, node.Info.KeyId))!.Id;
            Assert.Equal(3, await node.Server.Seal.Storage.Keys.GetEncryptionsReservedAsync(keyId, 1));
            var view = await node.Admin.GetJsonAsync($"/api/v1/keys/{keyId}");
            Assert.Equal(3, (long)view["versions"]![0]!["encryptionsReserved"]!);
            // Each share of the limit passed warns once (an alert event like every ok key.* record).
            var warnings = await WarningsAsync(node);
            Assert.Equal(4, warnings.Count);
            Assert.All(warnings, w => Assert.Equal((keyId, 1L, "system"), ((string?)w["keyId"], (long)w["keyVersion"]!, (string?)w["actorKind"])));
            Assert.Contains(warnings, w => ((string?)w["details"])!.Contains("(50 % or more)", StringComparison.Ordinal));
            Assert.Contains(warnings, w => ((string?)w["details"])!.Contains("all 3 encryptions", StringComparison.Ordinal));

            node = await node.RestartAsync();
            xks = XksClient.For(node);
            XksAssert.Error(await xks.EncryptAsync(node.Info.KeyId, [9, 9, 9]), 400, "InvalidStateException");

            using (var rotated = await node.Admin.PostAsync($"/api/v1/keys/{keyId}/rotate", null))
            {
                Assert.True(rotated.IsSuccessStatusCode, $"rotate answered {(int)rotated.StatusCode}");
            }

            var fresh = await xks.MustEncryptAsync(node.Info.KeyId, [4, 5, 6]);
            XksAssert.Ok(await xks.DecryptAsync(node.Info.KeyId, fresh));
            XksAssert.Ok(await xks.DecryptAsync(node.Info.KeyId, made[0]));
            Assert.Equal(3, await node.Server.Seal.Storage.Keys.GetEncryptionsReservedAsync(keyId, 1));
            Assert.Equal(4, (await WarningsAsync(node)).Count(w => (long)w["keyVersion"]! == 1)); // refusals warn no more
        }
        finally
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_encryption_whose_audit_record_could_not_be_written_goes_back_to_the_versions_budget()
    {
        // A 64th of the limit is a block of two (Xks/EncryptionBudgets.cs): the second encryption is
        // reserved by the first, so the locked store refuses only its audit record, not its reservation.
        const int budget = 128;
        await using var node = await DevServer.StartAsync(o => o.Xks.MaxEncryptionsPerKeyVersion = budget);
        var xks = XksClient.For(node);
        var key = node.Info.KeyId;
        await xks.MustEncryptAsync(key, [0]);

        var unanswered = await AuditStoreLock.WhileLockedAsync(node, () => xks.EncryptAsync(key, [1]));
        XksAssert.Error(unanswered, 503, "DependencyTimeoutException");

        // Its ciphertext never left the node, so the version still makes all of its encryptions.
        for (var i = 1; i < budget; i++)
        {
            await xks.MustEncryptAsync(key, [(byte)i]);
        }

        XksAssert.Error(await xks.EncryptAsync(key, [9]), 400, "InvalidStateException");
        var keyId = (await node.Server.Seal.Storage.Keys.FindKeyAsync(await node.KeyStoreIdAsync(node.Info.UriPrefix), key))!.Id;
        Assert.Equal(budget, await node.Server.Seal.Storage.Keys.GetEncryptionsReservedAsync(keyId, 1));
    }

    [Fact]
    public async Task A_key_with_a_rotation_policy_rotates_at_the_next_tick_once_three_quarters_are_reserved_and_one_without_does_not()
    {
        await using var node = await DevServer.StartAsync(o => o.Xks.MaxEncryptionsPerKeyVersion = 8);
        var keyStoreId = await node.KeyStoreIdAsync(node.Info.UriPrefix);
        var keyId = (await node.Server.Seal.Storage.Keys.FindKeyAsync(keyStoreId, node.Info.KeyId))!.Id;
        var other = (string)(await node.Admin.CreateKeyAsync(keyStoreId, new { name = "no-policy" }))["id"]!;
        using (var policy = await node.Admin.PutAsJsonAsync($"/api/v1/keys/{keyId}/rotation-policy", new { intervalDays = 365 }))
        {
            Assert.True(policy.IsSuccessStatusCode, $"rotation-policy answered {(int)policy.StatusCode}");
        }

        var xks = XksClient.For(node);
        for (var i = 0; i < 5; i++)
        {
            await xks.MustEncryptAsync(node.Info.KeyId, [(byte)i]);
            await xks.MustEncryptAsync("no-policy", [(byte)i]);
        }

        await node.Server.Scheduler.TickAsync();
        Assert.Equal(1, (int)(await node.Admin.GetJsonAsync($"/api/v1/keys/{keyId}"))["currentVersion"]!); // 5 of 8: not yet

        await xks.MustEncryptAsync(node.Info.KeyId, [6]);
        await xks.MustEncryptAsync("no-policy", [6]);
        await node.Server.Scheduler.TickAsync();

        Assert.Equal(2, (int)(await node.Admin.GetJsonAsync($"/api/v1/keys/{keyId}"))["currentVersion"]!);
        Assert.Equal(1, (int)(await node.Admin.GetJsonAsync($"/api/v1/keys/{other}"))["currentVersion"]!);
        var scheduled = (await node.Admin.GetJsonAsync($"/api/v1/audit/records?action=key.rotate.scheduled&keyId={keyId}"))["records"]!.AsArray();
        Assert.Contains(scheduled, r => (string?)r!["outcome"] == "ok" && ((string?)r["details"])!.Contains("has reserved 6 of its 8 encryptions", StringComparison.Ordinal));
        for (var i = 0; i < 8; i++)
        {
            await xks.MustEncryptAsync(node.Info.KeyId, [(byte)i]); // version 2's own eight
        }
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData((1L << 32) + 1)]
    public async Task A_limit_outside_1_to_2_pow_32_refuses_to_start_naming_the_setting(long limit)
    {
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => DevServer.StartAsync(o => o.Xks.MaxEncryptionsPerKeyVersion = limit));

        Assert.Contains("Xks:MaxEncryptionsPerKeyVersion must be 1..4294967296", e.Message, StringComparison.Ordinal);
    }

    private static async Task<List<System.Text.Json.Nodes.JsonNode>> WarningsAsync(DevServer node) =>
        [.. (await node.Admin.GetJsonAsync("/api/v1/audit/records?action=key.version.encryption-warning&limit=100"))["records"]!.AsArray().Select(r => r!)];

    [Fact]
    public async Task Concurrent_encryptions_never_pass_the_limit()
    {
        await using var node = await DevServer.StartAsync(o => o.Xks.MaxEncryptionsPerKeyVersion = 200);
        var xks = XksClient.For(node);

        var answers = await Task.WhenAll(Enumerable.Range(0, 260).Select(i => xks.EncryptAsKmsAsync(node.Info.KeyId, [(byte)i])));

        Assert.Equal(200, answers.Count(a => a.Status == 200));
        Assert.All(answers.Where(a => a.Status != 200), a => XksAssert.Error(a, 400, "InvalidStateException"));
    }
}
