using System.Net;
using System.Net.Http.Headers;
using Coffer.Crypto;
using Coffer.Server.Hosting;
using Coffer.Server.Tests.Management;

namespace Coffer.Server.Tests.Hsm;

/// <summary>
/// The master key moves between the shamir and pkcs11 seals (<c>coffer resplit start --seal</c>) on a
/// real SoftHSM2 token, keeping the master key and so everything sealed under it (docs/master-key.md).
/// </summary>
public sealed class SealMigrationTests : IDisposable
{
    private static readonly byte[] Secret = "sealed before the seal moved"u8.ToArray();

    private readonly HsmNode _node = new();

    [Fact]
    public async Task The_master_key_moves_from_shamir_into_the_hsm_and_back_into_new_shares_with_its_data()
    {
        byte[] sealedSecret;
        string token;
        string[] fresh;
        await using (var node = await _node.StartAsync(seal: "shamir"))
        {
            using var anonymous = new HttpClient { BaseAddress = node.AdminUrl };
            var init = await (await anonymous.PostJsonAsync("/api/v1/sys/init", new { shares = 2, threshold = 2 })).JsonAsync(HttpStatusCode.OK);
            var shares = init["shares"]!.AsArray().Select(s => (string)s!).ToArray();
            token = (string)init["rootToken"]!;
            foreach (var share in shares)
            {
                (await anonymous.PostJsonAsync("/api/v1/sys/unseal", new { share })).EnsureSuccessStatusCode();
            }

            sealedSecret = await node.Seal.SealSecretAsync(SealPurpose.WebhookSecret, "wh-1", Secret);
            using var admin = Admin(node, token);

            var start = await (await admin.PostJsonAsync("/api/v1/sys/resplit", new { seal = "pkcs11" })).JsonAsync(HttpStatusCode.OK);
            Assert.Equal(2, (int)start["required"]!);
            var nonce = (string)start["nonce"]!;
            await (await anonymous.PostJsonAsync("/api/v1/sys/resplit/share", new { nonce, share = shares[1] })).JsonAsync(HttpStatusCode.OK);
            Assert.Equal("shamir", (string?)(await admin.GetJsonAsync("/api/v1/sys/status"))["sealKind"]);
            var done = await (await anonymous.PostJsonAsync("/api/v1/sys/resplit/share", new { nonce, share = shares[0] })).JsonAsync(HttpStatusCode.OK);

            Assert.Equal("pkcs11", (string?)done["seal"]);
            Assert.Null(done["newShares"]);
            Assert.Contains("set Seal to 'pkcs11'", (string?)done["warning"], StringComparison.Ordinal);
            Assert.Equal("pkcs11", (string?)(await admin.GetJsonAsync("/api/v1/sys/status"))["sealKind"]);
            Assert.False(node.IsSealed);

            // The shares no longer unseal anything.
            await node.Seal.SealAsync();
            using var stale = await anonymous.PostJsonAsync("/api/v1/sys/unseal", new { share = shares[0] });
            Assert.Contains("'pkcs11' seal", (string?)(await stale.ProblemAsync(HttpStatusCode.Conflict))["detail"], StringComparison.Ordinal);
        }

        await using (var node = await _node.StartAsync(seal: "pkcs11"))
        {
            Assert.False(node.IsSealed);
            Assert.Equal(Secret, await node.Seal.OpenSecretAsync(SealPurpose.WebhookSecret, "wh-1", sealedSecret));
            using var admin = Admin(node, token);

            var refused = await admin.PostJsonAsync("/api/v1/sys/resplit", new { seal = "pkcs11" });
            Assert.Contains("already uses the pkcs11 seal", (string?)(await refused.ProblemAsync(HttpStatusCode.Conflict))["detail"], StringComparison.Ordinal);

            // Out of the HSM there are no shares to give: the move is made at once.
            var done = await (await admin.PostJsonAsync("/api/v1/sys/resplit", new { shares = 3, threshold = 2 })).JsonAsync(HttpStatusCode.OK);
            Assert.False((bool)done["inProgress"]!);
            Assert.Equal("shamir", (string?)done["seal"]);
            fresh = done["newShares"]!.AsArray().Select(s => (string)s!).ToArray();
            Assert.Equal(3, fresh.Length);
            Assert.Contains("set Seal to 'shamir'", (string?)done["warning"], StringComparison.Ordinal);

            var records = (await admin.GetJsonAsync("/api/v1/audit/records?action=seal.resplit.start"))["records"]!.AsArray();
            Assert.Contains(records, r => ((string?)r!["details"])?.Contains("re-split done: 3 shares, threshold 2", StringComparison.Ordinal) == true);
            var shareRecords = (await admin.GetJsonAsync("/api/v1/audit/records?action=seal.resplit.share"))["records"]!.AsArray();
            Assert.Contains(shareRecords, r => ((string?)r!["details"])?.Contains("re-split done: the pkcs11 seal", StringComparison.Ordinal) == true);
        }

        await using (var node = await _node.StartAsync(seal: "shamir"))
        {
            Assert.True(node.IsSealed);
            using var anonymous = new HttpClient { BaseAddress = node.AdminUrl };
            (await anonymous.PostJsonAsync("/api/v1/sys/unseal", new { share = fresh[2] })).EnsureSuccessStatusCode();
            (await anonymous.PostJsonAsync("/api/v1/sys/unseal", new { share = fresh[0] })).EnsureSuccessStatusCode();
            Assert.False(node.IsSealed);
            Assert.Equal(Secret, await node.Seal.OpenSecretAsync(SealPurpose.WebhookSecret, "wh-1", sealedSecret));
        }
    }

    [Fact]
    public async Task A_move_into_the_hsm_that_the_shares_do_not_authorise_writes_nothing_and_the_shamir_seal_still_unseals()
    {
        await using var node = await _node.StartAsync(seal: "shamir");
        using var anonymous = new HttpClient { BaseAddress = node.AdminUrl };
        var init = await (await anonymous.PostJsonAsync("/api/v1/sys/init", new { shares = 2, threshold = 2 })).JsonAsync(HttpStatusCode.OK);
        var shares = init["shares"]!.AsArray().Select(s => (string)s!).ToArray();
        foreach (var share in shares)
        {
            (await anonymous.PostJsonAsync("/api/v1/sys/unseal", new { share })).EnsureSuccessStatusCode();
        }

        using var admin = Admin(node, (string)init["rootToken"]!);
        var nonce = (string)(await (await admin.PostJsonAsync("/api/v1/sys/resplit", new { seal = "pkcs11" })).JsonAsync(HttpStatusCode.OK))["nonce"]!;
        await (await anonymous.PostJsonAsync("/api/v1/sys/resplit/share", new { nonce, share = shares[0] })).JsonAsync(HttpStatusCode.OK);
        var other = Shamir.Split(new byte[32], 2, 2)[1];
        using var refused = await anonymous.PostJsonAsync("/api/v1/sys/resplit/share", new { nonce, share = other });

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("shamir", (string?)(await admin.GetJsonAsync("/api/v1/sys/status"))["sealKind"]);
        await node.Seal.SealAsync();
        foreach (var share in shares)
        {
            (await anonymous.PostJsonAsync("/api/v1/sys/unseal", new { share })).EnsureSuccessStatusCode();
        }

        Assert.False(node.IsSealed);
    }

    private static HttpClient Admin(CofferServer node, string token) =>
        new() { BaseAddress = node.AdminUrl, DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", token) } };

    public void Dispose() => _node.Dispose();
}
