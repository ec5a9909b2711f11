using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Coffer.Server.Hosting;
using Coffer.Testing;

namespace Coffer.Server.Tests.Hsm;

/// <summary>
/// When every HSM session is taken for longer than SessionTimeoutMs, an XKS call answers 429
/// ThrottlingException (AWS KMS backs off) instead of queueing without bound; once a session is
/// free again, calls succeed.
/// </summary>
public sealed class HsmBusyTests : IAsyncLifetime
{
    private readonly HsmNode _node = new();
    private CofferServer _server = null!;
    private XksClient _xks = null!;

    public async Task InitializeAsync()
    {
        _server = await _node.StartAsync(pkcs11 =>
        {
            pkcs11.SessionPoolSize = 1;
            pkcs11.SessionTimeoutMs = 50;
        });
        using var admin = new HttpClient { BaseAddress = _server.AdminUrl };
        using var init = await admin.PostAsJsonAsync("/api/v1/sys/init", new { seal = "pkcs11" });
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Bearer", (string)JsonNode.Parse(await init.Content.ReadAsStringAsync())!["rootToken"]!);
        _xks = await Pkcs11SealTests.CreateKeyStoreAsync(admin, _server.XksUrl);
    }

    [Fact]
    public async Task A_call_that_finds_no_free_session_in_time_is_a_ThrottlingException()
    {
        var plaintext = "wait for a free HSM session, or back off"u8.ToArray();
        using var holding = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();

        // Take the only session, as a long HSM operation would.
        var holder = Task.Run(() => _server.Seal.Pkcs11Token().Run(_ =>
        {
            holding.Set();
            release.Wait(TimeSpan.FromSeconds(10));
            return 0;
        }));
        Assert.True(holding.Wait(TimeSpan.FromSeconds(10)));

        var busy = await _xks.EncryptAsync("k1", plaintext);
        release.Set();
        await holder;

        Assert.Equal(429, busy.Status);
        Assert.Equal("ThrottlingException", busy.ErrorName);
        // The session is free again. A loaded machine can still keep a call queued past the 50 ms this
        // node allows (429 again), and AWS KMS backs off and retries a ThrottlingException: so may this.
        await Wait.UntilAsync(async () => (await _xks.EncryptAsync("k1", plaintext)).Status == 200, "a call to find the freed session");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _node.Dispose();
    }
}
