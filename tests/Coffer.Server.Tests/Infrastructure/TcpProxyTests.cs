using System.Diagnostics;
using Coffer.Testing;
using Npgsql;

namespace Coffer.Server.Tests.Infrastructure;

/// <summary>The link a cluster test cuts between a node and PostgreSQL: real PostgreSQL behind it.</summary>
public sealed class TcpProxyTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task A_reset_fails_open_and_new_connections_at_once_and_a_restore_lets_new_ones_through()
    {
        await using var proxy = TcpProxy.Start((await PostgresFixture.ServerAsync()).Port);
        var through = await ThroughAsync(proxy, timeoutSeconds: 30);
        await using var open = await OpenAsync(through);
        Assert.Equal(1, await SelectOneAsync(open));

        await proxy.CutAsync(TcpCut.Reset);

        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => SelectOneAsync(open));
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => OpenAsync(through));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"A reset is noticed at once, not after the 30 s timeout ({clock.Elapsed}).");

        proxy.Restore();
        await using var again = await OpenAsync(through);
        Assert.Equal(1, await SelectOneAsync(again));
    }

    [Fact]
    public async Task A_blackhole_leaves_open_and_new_connections_unanswered_until_their_timeout_and_a_restore_lets_new_ones_through()
    {
        await using var proxy = TcpProxy.Start((await PostgresFixture.ServerAsync()).Port);
        var through = await ThroughAsync(proxy, timeoutSeconds: 2);
        await using var open = await OpenAsync(through);
        Assert.Equal(1, await SelectOneAsync(open));

        await proxy.CutAsync(TcpCut.Blackhole);

        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => SelectOneAsync(open));
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.8), $"The query waited for its 2 s timeout ({clock.Elapsed}).");
        clock.Restart();
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => OpenAsync(through));
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.8), $"The connection attempt waited for its 2 s timeout ({clock.Elapsed}).");

        proxy.Restore();
        await using var again = await OpenAsync(through);
        Assert.Equal(1, await SelectOneAsync(again));
    }

    // A fresh database reached through the proxy, without pooling (each open is a new TCP connection).
    private async Task<string> ThroughAsync(TcpProxy proxy, int timeoutSeconds) =>
        new NpgsqlConnectionStringBuilder(await postgres.CreateDatabaseAsync())
        {
            Port = proxy.Port,
            Pooling = false,
            Timeout = timeoutSeconds,
            CommandTimeout = timeoutSeconds,
            CancellationTimeout = -1, // no cancel request after a command timeout: the connection is just broken
        }.ConnectionString;

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync();
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<int> SelectOneAsync(NpgsqlConnection connection)
    {
        await using var command = new NpgsqlCommand("SELECT 1", connection);
        return (int)(await command.ExecuteScalarAsync())!;
    }
}
