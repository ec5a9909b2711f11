using Coffer.KillSwitches;
using Coffer.Server.Tests.Xks;
using Coffer.Storage.Sqlite;
using Coffer.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Coffer.Server.Tests.Changes;

/// <summary>
/// The safety net under the change feed: a change whose notice never came is in force once the next
/// full reload has run, on the server's clock (a <see cref="FakeTimeProvider"/> shared with the signer).
/// </summary>
public sealed class FullReloadTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task A_kill_switch_engaged_by_another_node_whose_notice_was_lost_is_in_force_after_the_next_full_reload()
    {
        await using var node = await DevServer.StartAsync(o => o.Cluster.FullReloadSeconds = 60, time: _time);
        var engaged = new KillSwitch("kill_" + Guid.NewGuid().ToString("N"), KillSwitchScope.All, null, "notice lost", "tok_b", _time.GetUtcNow());
        using (var storage = await SqliteStorage.OpenAsync(Path.Combine(node.DataDirectory, "coffer.db")))
        {
            await storage.KillSwitches.EngageAsync(engaged);
        }

        _time.Advance(TimeSpan.FromSeconds(59));
        XksAssert.Ok(await Client(node).EncryptAsync(node.Info.KeyId, [1]));

        _time.Advance(TimeSpan.FromSeconds(1));
        await Wait.UntilAsync(async () => (await Client(node).EncryptAsync(node.Info.KeyId, [1])).Status == 400, "the full reload to engage the kill switch");
        XksAssert.Error(await Client(node).EncryptAsync(node.Info.KeyId, [1]), 400, "InvalidStateException");
    }

    private XksClient Client(DevServer node) => XksClient.For(node) with { SigningTime = _time.GetUtcNow() };
}
