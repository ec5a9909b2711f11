using Coffer.Server.Hosting;
using System.Collections.Concurrent;
using Coffer.Changes;
using Coffer.Server.Logging;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Coffer.Server.Changes.Postgres;

/// <summary>
/// Receives the other nodes' changes on a dedicated connection (<c>LISTEN coffer_changes</c>) and
/// vouches for this node's <see cref="ClusterFreshness"/> (docs/cluster.md, "Changes between nodes and
/// staleness"). Every <see cref="ProbeInterval"/> it runs <c>SELECT 1</c> on that connection:
/// PostgreSQL delivers a session's notifications before the answer to its next query, so once the
/// answer came and the notices delivered so far are applied, every change committed before the probe
/// was sent is in force, and the node is current from the time it was sent.
/// </summary>
/// <remarks>
/// Notifications sent while the node was not listening are lost, so after every (re)connect every
/// cache reloads before the node is declared current. A dropped connection makes the node not current
/// at once, then it reconnects by itself with a doubling backoff; a step that hangs (a silent network)
/// is abandoned after the staleness bound, by which time the node is no longer current anyway.
/// </remarks>
internal sealed partial class PostgresChangeListener(
    NpgsqlDataSource dataSource,
    IChangeFeed changes,
    ClusterFreshness freshness,
    TimeSpan staleness,
    TimeProvider clock,
    ILogger<PostgresChangeListener> logger) : BackgroundService
{
    /// <summary>How often the listening connection proves it is alive.</summary>
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(2);

    /// <summary>How much of an unreadable payload a log line shows.</summary>
    private const int LoggedPayloadLength = 64;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reconnect = new BackoffRetry(FirstRetry, LastRetry, clock, (_, delay, e) =>
        {
            freshness.Lose();
            Log.ConnectionLost(logger, delay.TotalMilliseconds, e.GetType().Name, e.Message);
        });
        try
        {
            // A connection made starts the backoff again from its first wait.
            await reconnect.RunAsync(ct => new ValueTask(ListenAsync(() => reconnect.Reset(), ct)), stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Listens until the connection fails (it throws then): never returns normally.</summary>
    private async Task ListenAsync(Action connected, CancellationToken ct)
    {
        await using var connection = await WithinBoundAsync(dataSource.OpenConnectionAsync, ct);
        var received = new ConcurrentQueue<string>();
        connection.Notification += (_, e) => received.Enqueue(e.Payload);
        await ExecuteAsync(connection, "LISTEN " + ChangePayload.Channel, ct);
        connected();
        Log.Listening(logger);

        // Changes sent while this node was not listening never reach it: reload everything first.
        var reloadAll = true;
        while (true)
        {
            var probeSent = clock.GetTimestamp();
            await ExecuteAsync(connection, "SELECT 1", ct);
            var applied = await ApplyAsync(received, ct);
            if (reloadAll)
            {
                reloadAll = !await changes.ReloadAllAsync(ct);
            }

            if (applied && !reloadAll)
            {
                freshness.Confirm(probeSent);
            }
            else
            {
                // A change this node knows of is not in force: fail closed until a full reload succeeds.
                reloadAll = true;
                freshness.Lose();
            }

            // Until the next probe, apply notices as they come: that is what makes a change fast.
            for (var left = ProbeInterval - clock.GetElapsedTime(probeSent); left > TimeSpan.Zero; left = ProbeInterval - clock.GetElapsedTime(probeSent))
            {
                if (await connection.WaitAsync(WholeMilliseconds(left), ct) && !await ApplyAsync(received, ct))
                {
                    reloadAll = true;
                    freshness.Lose();
                }
            }
        }
    }

    /// <summary>Npgsql waits in whole milliseconds and reads 0 as "no timeout": a loop that resumed late
    /// (under load) and has less than a millisecond left must still wait one, not until a notification
    /// that may never come, which would stop the probes and leave the node stale for good.</summary>
    private static int WholeMilliseconds(TimeSpan wait) => (int)Math.Ceiling(wait.TotalMilliseconds);

    /// <summary>Hands the notices received so far to the feed; false when one was not applied.</summary>
    private async Task<bool> ApplyAsync(ConcurrentQueue<string> received, CancellationToken ct)
    {
        var all = true;
        while (received.TryDequeue(out var payload))
        {
            if (ChangePayload.TryParse(payload, out var notice))
            {
                all &= await changes.ReceiveAsync(notice, ct);
                continue;
            }

            // Whatever it meant, reloading everything covers it.
            Log.UnreadablePayload(logger, LogText.Escape(payload.Length > LoggedPayloadLength ? payload[..LoggedPayloadLength] + "..." : payload));
            all &= await changes.ReloadAllAsync(ct);
        }

        return all;
    }

    private Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct) =>
        WithinBoundAsync(async bounded =>
        {
            await using var command = new NpgsqlCommand(sql, connection);
            return await command.ExecuteNonQueryAsync(bounded);
        }, ct);

    /// <summary>Runs one step on the database, abandoned after the staleness bound: a silent network
    /// must not hold the listener past the time the node stops being current.</summary>
    private async Task<T> WithinBoundAsync<T>(Func<CancellationToken, ValueTask<T>> step, CancellationToken ct)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(staleness);
        return await step(bounded.Token);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1403, Level = LogLevel.Information, Message = "Listening for the other nodes' changes; every cache reloads before this node serves key operations")]
        public static partial void Listening(ILogger logger);

        [LoggerMessage(EventId = 1404, Level = LogLevel.Warning, Message = "The change listener lost the database ({ExceptionType}: {Reason}); key operations are refused until it is back, next attempt in {RetryMs} ms")]
        public static partial void ConnectionLost(ILogger logger, double retryMs, string exceptionType, string reason);

        [LoggerMessage(EventId = 1405, Level = LogLevel.Warning, Message = "A change notification could not be read ({Payload}); every cache reloads")]
        public static partial void UnreadablePayload(ILogger logger, string payload);
    }
}
