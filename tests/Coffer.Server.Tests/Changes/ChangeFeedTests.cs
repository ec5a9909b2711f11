using Coffer.Changes;
using Coffer.Server.Changes;
using Coffer.Testing;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Tests.Changes;

/// <summary>
/// The change feed's contract (src/Coffer.Core/Changes/IChangeFeed.cs) on its own: who runs for a
/// publish and for a notice, what is broadcast, and that one failing cache neither stops the others
/// nor the broadcast. The transport is a recorder: the real one runs between nodes
/// (<see cref="OtherNodeChangeTests"/> delivers its notices by hand).
/// </summary>
public sealed class ChangeFeedTests : IDisposable
{
    private const string Node = "node-a";

    private readonly CapturedLogs _logs = new();
    private readonly ILoggerFactory _loggers;
    private readonly RecordingBroadcast _broadcast = new();
    private readonly ChangeFeed _feed;
    private readonly List<string> _reloaded = [];

    public ChangeFeedTests()
    {
        _loggers = LoggerFactory.Create(b => b.AddProvider(_logs));
        _feed = new ChangeFeed(Node, _loggers.CreateLogger<ChangeFeed>(), _broadcast);
        _feed.Subscribe("rules", Reload("rules"), ChangeTopic.AccessRules, ChangeTopic.RegionSets);
        _feed.Subscribe("switches", Reload("switches"), ChangeTopic.KillSwitches, ChangeTopic.RegionSets);
    }

    [Fact]
    public async Task A_publish_reloads_the_subscribers_of_its_topic_only_and_then_broadcasts_it_tagged_with_the_node()
    {
        await _feed.PublishAsync(ChangeTopic.RegionSets);
        await _feed.PublishAsync(ChangeTopic.KillSwitches);

        Assert.Equal(["rules", "switches", "switches"], _reloaded);
        Assert.Equal([new ChangeNotice(ChangeTopic.RegionSets, Node), new ChangeNotice(ChangeTopic.KillSwitches, Node)], _broadcast.Sent);
    }

    [Fact]
    public async Task A_notice_from_another_node_reloads_without_broadcasting_and_one_from_this_node_does_nothing()
    {
        await _feed.ReceiveAsync(new ChangeNotice(ChangeTopic.AccessRules, "node-b"));
        await _feed.ReceiveAsync(new ChangeNotice(ChangeTopic.KillSwitches, Node));

        Assert.Equal(["rules"], _reloaded);
        Assert.Empty(_broadcast.Sent);
    }

    [Fact]
    public async Task A_notice_of_a_topic_this_node_does_not_know_reloads_everything()
    {
        await _feed.ReceiveAsync(new ChangeNotice((ChangeTopic)99, "node-b"));

        Assert.Equal(["rules", "switches"], _reloaded);
        Assert.Contains(_logs.Lines, l => l.Contains("[1402]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failing_subscriber_is_logged_the_others_still_reload_the_change_is_broadcast_and_the_publisher_is_told()
    {
        var feed = new ChangeFeed(Node, _loggers.CreateLogger<ChangeFeed>(), _broadcast);
        feed.Subscribe("broken", _ => Task.FromException(new InvalidOperationException("reload failed")), ChangeTopic.KillSwitches);
        feed.Subscribe("switches", Reload("switches"), ChangeTopic.KillSwitches);

        var refused = await Assert.ThrowsAsync<ChangeNotInForceException>(() => feed.PublishAsync(ChangeTopic.KillSwitches));
        await feed.ReceiveAsync(new ChangeNotice(ChangeTopic.KillSwitches, "node-b")); // logged, not thrown
        await feed.ReloadAllAsync();

        Assert.Equal(ChangeTopic.KillSwitches, refused.Topic);
        Assert.Equal(["switches", "switches", "switches"], _reloaded);
        Assert.Equal([new ChangeNotice(ChangeTopic.KillSwitches, Node)], _broadcast.Sent);
        Assert.Equal(3, _logs.Lines.Count(l => l.Contains("[1400]", StringComparison.Ordinal) && l.Contains("broken", StringComparison.Ordinal)));
        feed.Dispose();
    }

    [Fact]
    public async Task A_broadcast_that_fails_is_logged_and_the_change_is_still_in_force_here()
    {
        _broadcast.Fail = true;

        await _feed.PublishAsync(ChangeTopic.AccessRules);

        Assert.Equal(["rules"], _reloaded);
        Assert.Contains(_logs.Lines, l => l.Contains("[1401]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reloads_of_one_subscriber_never_overlap()
    {
        var running = 0;
        var overlapped = false;
        var feed = new ChangeFeed(Node, _loggers.CreateLogger<ChangeFeed>());
        feed.Subscribe("slow", async _ =>
        {
            overlapped |= Interlocked.Increment(ref running) > 1;
            await Task.Yield();
            await Task.Delay(5);
            Interlocked.Decrement(ref running);
        }, ChangeTopic.KeyRing);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => feed.PublishAsync(ChangeTopic.KeyRing))));

        Assert.False(overlapped);
        feed.Dispose();
    }

    [Fact]
    public void A_subscription_names_known_topics()
    {
        Assert.Throws<ArgumentException>(() => _feed.Subscribe("none", Reload("none")));
        Assert.Throws<ArgumentException>(() => _feed.Subscribe("unknown", Reload("unknown"), (ChangeTopic)99));
    }

    public void Dispose()
    {
        _feed.Dispose();
        _loggers.Dispose();
    }

    private Func<CancellationToken, Task> Reload(string name) => _ =>
    {
        lock (_reloaded)
        {
            _reloaded.Add(name);
        }

        return Task.CompletedTask;
    };

    private sealed class RecordingBroadcast : IChangeBroadcast
    {
        public List<ChangeNotice> Sent { get; } = [];

        public bool Fail { get; set; }

        public Task SendAsync(ChangeNotice notice, CancellationToken ct)
        {
            if (Fail)
            {
                return Task.FromException(new IOException("the other nodes are unreachable"));
            }

            Sent.Add(notice);
            return Task.CompletedTask;
        }
    }
}
