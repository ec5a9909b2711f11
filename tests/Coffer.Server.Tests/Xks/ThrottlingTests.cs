using System.Diagnostics;
using Coffer.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>
/// XKS spec, "Error codes": 429 ThrottlingException when a key store's quota is exceeded. The node
/// runs with RequestsPerSecondPerKeyStore = 1 (a token bucket of one token per second); a node per
/// test, since the bucket is node state.
/// </summary>
public abstract class ThrottlingTests(string backend) : IAsyncLifetime
{
    private const int Burst = 10;

    private DevServer _node = null!;
    private XksClient _xks = null!;

    public async Task InitializeAsync()
    {
        _node = await DevServer.StartAsync(options => options.Xks.RequestsPerSecondPerKeyStore = 1, backend: backend);
        _xks = XksClient.For(_node);
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    /// <summary>Sends requests until one is throttled (at most <see cref="Burst"/>).</summary>
    private async Task<XksResponse> ExhaustAsync()
    {
        for (var i = 0; i < Burst; i++)
        {
            var response = await _xks.GetKeyMetadataAsync(_node.Info.KeyId);
            if (response.Status == 429)
            {
                return response;
            }
        }

        throw new Xunit.Sdk.XunitException($"{Burst} requests in a row were not throttled at 1 request/s.");
    }

    [Fact]
    public async Task Burst_beyond_the_key_store_quota_is_ThrottlingException_429()
    {
        var clock = Stopwatch.StartNew();
        var first = await _xks.GetKeyMetadataAsync(_node.Info.KeyId);
        var rest = new List<XksResponse>();
        for (var i = 0; i < Burst; i++)
        {
            rest.Add(await _xks.GetKeyMetadataAsync(_node.Info.KeyId));
        }

        var elapsed = clock.Elapsed;

        XksAssert.Ok(first);
        Assert.All(rest, r => Assert.True(r.Status is 200 or 429, r.ToString()));
        Assert.Contains(rest, r => r.Status == 429);
        Assert.All(rest.Where(r => r.Status == 429), r => XksAssert.Error(r, 429, "ThrottlingException"));
        // One token per second: at most one more success per started second of the burst.
        Assert.InRange(rest.Count(r => r.Status == 200), 0, (int)Math.Ceiling(elapsed.TotalSeconds));
    }

    [Fact]
    public async Task Requests_pass_again_after_the_quota_window()
    {
        await ExhaustAsync();

        // The one bounded wait of the suite: the token bucket refills once a second.
        XksResponse? passed = null;
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(3))
        {
            await Task.Delay(200);
            var response = await _xks.GetKeyMetadataAsync(_node.Info.KeyId);
            if (response.Status == 200)
            {
                passed = response;
                break;
            }

            XksAssert.Error(response, 429, "ThrottlingException");
        }

        Assert.NotNull(passed);
    }

    [Fact]
    public async Task Quota_is_per_key_store()
    {
        var other = await _node.CreateKeyStoreAsync("/" + Admin.Unique("other"));

        XksAssert.Error(await ExhaustAsync(), 429, "ThrottlingException");

        XksAssert.Ok(await other.Client.HealthAsync());
    }

    [Fact]
    public async Task Unauthenticated_requests_are_AuthenticationFailedException_not_throttled()
    {
        await ExhaustAsync();

        // SigV4 comes before the quota: a bad signature says 401 whatever the quota.
        XksAssert.Error(await (_xks with { SecretAccessKey = XksAssert.Wrong(_xks.SecretAccessKey) }).GetKeyMetadataAsync(_node.Info.KeyId),
            401, "AuthenticationFailedException");
    }
}
