using Coffer.Server.Cluster;
using Coffer.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Coffer.Server.Tests.Cluster;

public sealed class NodeIdentityTests
{
    [Theory]
    [InlineData("web-01", "web-01")]
    [InlineData("Build Host #2", "build-host--2")]
    [InlineData("Ünïcode.example", "-n-code.example")]
    [InlineData("-leading", "leading")]
    [InlineData("", "coffer")]
    public void The_default_node_id_is_the_host_name_made_a_safe_token(string hostName, string expected)
    {
        var id = NodeIdentity.FromHostName(hostName);

        Assert.Equal(expected.TrimStart('-'), id);
        Assert.Null(NodeIdentity.Problem(id));
    }

    [Fact]
    public void A_long_host_name_is_cut_to_the_longest_id_allowed()
    {
        var id = NodeIdentity.FromHostName(new string('h', 200));

        Assert.Equal(NodeIdentity.MaxLength, id.Length);
        Assert.Null(NodeIdentity.Problem(id));
    }

    [Theory]
    [InlineData("")]
    [InlineData("node a")]
    [InlineData("node/a")]
    [InlineData(".hidden")]
    [InlineData("node-a\n")]
    [InlineData("nöde")]
    public void An_explicit_node_id_that_is_not_a_safe_token_is_refused_by_name(string nodeId)
    {
        var problem = NodeIdentity.Problem(nodeId);

        Assert.NotNull(problem);
        Assert.StartsWith("NodeId must be 1 to 63 ASCII letters, digits, '.', '_' or '-'", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_node_id_of_64_characters_is_refused()
    {
        Assert.NotNull(NodeIdentity.Problem(new string('n', 64)));
    }

    [Fact]
    public async Task A_server_with_a_bad_node_id_does_not_start_and_creates_no_database()
    {
        var directory = Path.Combine(Path.GetTempPath(), "coffer-nodeid-" + Guid.NewGuid().ToString("N"));
        var options = new CofferOptions
        {
            DataDirectory = directory,
            Seal = "dev",
            NodeId = "node a",
            Xks = new XksListenerOptions { Address = "127.0.0.1", Port = 0, AllowPlainHttp = true },
            Admin = new ListenerOptions { Address = "127.0.0.1", Port = 0 },
        };

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => CofferServer.StartAsync(options, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance));

        Assert.Contains(e.Failures, f => f.StartsWith("NodeId must be", StringComparison.Ordinal));
        Assert.False(Directory.Exists(directory));
    }

    [Theory]
    [InlineData(40, 5000, 10000, 3000)]
    [InlineData(1000, 1500, 10000, 3000)]
    [InlineData(1000, 5000, 5000, 3000)]
    public async Task Cluster_timings_that_cannot_work_together_are_refused(int heartbeat, int liveness, int lease, int renew)
    {
        var options = new CofferOptions
        {
            DataDirectory = Path.Combine(Path.GetTempPath(), "coffer-timing-" + Guid.NewGuid().ToString("N")),
            Seal = "dev",
            Cluster = new ClusterOptions { HeartbeatMilliseconds = heartbeat, LivenessMilliseconds = liveness, LeaseMilliseconds = lease, RenewMilliseconds = renew },
            Xks = new XksListenerOptions { Address = "127.0.0.1", Port = 0, AllowPlainHttp = true },
            Admin = new ListenerOptions { Address = "127.0.0.1", Port = 0 },
        };

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => CofferServer.StartAsync(options, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance));

        var problem = Assert.Single(e.Failures);
        Assert.StartsWith("Cluster:", problem, StringComparison.Ordinal);
        Assert.False(Directory.Exists(options.DataDirectory));
    }
}
