using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Coffer.Auth;
using Coffer.Crypto;
using Coffer.Server.Hosting;
using Coffer.Server.Seal;
using Coffer.Server.Tests.Management;
using Coffer.Testing;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Tests.Seal;

/// <summary>A data directory from before the unseal key, whose shares rebuild the master key itself:
/// it still unseals with them, and a re-split moves it to the sealed form without touching the data
/// (docs/master-key.md, "The seal layers").</summary>
public sealed class ShamirSealFormTests : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("coffer-seal-form-").FullName;
    private readonly CapturedLogs _logs = new();
    private readonly ILoggerFactory _loggers;

    public ShamirSealFormTests() => _loggers = LoggerFactory.Create(b => b.AddProvider(_logs));

    [Fact]
    public async Task Shares_of_the_master_key_itself_still_unseal_and_a_resplit_moves_them_to_an_unseal_key()
    {
        var (legacy, token) = await WriteLegacyInstallationAsync();
        await using var node = await StartAsync();
        using var anonymous = new HttpClient { BaseAddress = node.AdminUrl };
        using var admin = new HttpClient { BaseAddress = node.AdminUrl, DefaultRequestHeaders = { { "Authorization", "Bearer " + token } } };

        foreach (var share in legacy.Take(2))
        {
            (await anonymous.PostJsonAsync("/api/v1/sys/unseal", new { share })).EnsureSuccessStatusCode();
        }

        Assert.False(node.IsSealed);
        var secret = "sealed before the re-split"u8.ToArray();
        var sealedBefore = await node.Seal.SealSecretAsync(SealPurpose.WebhookSecret, "wh-1", secret);

        var start = await (await admin.PostJsonAsync("/api/v1/sys/resplit", new { shares = 2, threshold = 2 })).JsonAsync(HttpStatusCode.OK);
        var nonce = (string)start["nonce"]!;
        await (await anonymous.PostJsonAsync("/api/v1/sys/resplit/share", new { nonce, share = legacy[1] })).JsonAsync(HttpStatusCode.OK);
        var done = await (await anonymous.PostJsonAsync("/api/v1/sys/resplit/share", new { nonce, share = legacy[2] })).JsonAsync(HttpStatusCode.OK);
        var fresh = done["newShares"]!.AsArray().Select(s => (string)s!).ToArray();
        Assert.Contains("split from the master key itself", (string?)done["warning"], StringComparison.Ordinal);
        Assert.NotNull(await node.Seal.Storage.System.GetSettingAsync(SettingNames.ShamirSealedMasterKey));

        await node.Seal.SealAsync();
        (await anonymous.PostJsonAsync("/api/v1/sys/unseal", new { share = legacy[0] })).EnsureSuccessStatusCode();
        using var stale = await anonymous.PostJsonAsync("/api/v1/sys/unseal", new { share = legacy[1] });
        Assert.Contains("do not open this installation's master key", (string?)(await stale.ProblemAsync(HttpStatusCode.Conflict))["detail"], StringComparison.Ordinal);

        Assert.True(node.IsSealed);
        foreach (var share in fresh)
        {
            (await anonymous.PostJsonAsync("/api/v1/sys/unseal", new { share })).EnsureSuccessStatusCode();
        }

        Assert.False(node.IsSealed);
        Assert.Equal(secret, await node.Seal.OpenSecretAsync(SealPurpose.WebhookSecret, "wh-1", sealedBefore));
    }

    // The settings `coffer init` wrote before the unseal key: the shares split the master key itself.
    private async Task<(IReadOnlyList<string> Shares, string Token)> WriteLegacyInstallationAsync()
    {
        await using (var node = await StartAsync())
        {
            using var master = MasterKey.Generate();
            var raw = master.Export();
            IReadOnlyList<string> shares;
            try
            {
                shares = Shamir.Split(raw, 3, 2);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(raw);
            }

            await node.Seal.Storage.System.InsertSettingsAsync(new Dictionary<string, string>
            {
                [SettingNames.SealKind] = SealKinds.Shamir,
                [SettingNames.ShamirShares] = "3",
                [SettingNames.ShamirThreshold] = "2",
                [SettingNames.MasterCheck] = Convert.ToBase64String(master.CreateCheckValue()),
                [SettingNames.InitializedAt] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            });
            var token = CredentialGenerator.NewApiToken();
            await node.Seal.Storage.System.AddTokenAsync(new ApiToken("tok-legacy", "root", ApiTokenHash.Of(token), Roles.Administrator, DateTimeOffset.UtcNow, null, null));
            return (shares, token);
        }
    }

    private Task<CofferServer> StartAsync() => CofferServer.StartAsync(new CofferOptions
    {
        DataDirectory = _directory,
        Seal = SealKinds.Shamir,
        NodeId = "seal-form-test",
        Xks = new XksListenerOptions { Address = "127.0.0.1", Port = 0, AllowPlainHttp = true },
        Admin = new ListenerOptions { Address = "127.0.0.1", Port = 0 },
    }, _loggers);

    public ValueTask DisposeAsync()
    {
        _loggers.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }
}
