using System.Globalization;
using Coffer.Storage.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Coffer.Server.Hosting;

/// <summary>
/// <c>coffer dev --cluster N</c>: a throw-away PostgreSQL server in <c>&lt;data&gt;/postgres</c>
/// (<see cref="LocalPostgres"/>, reused on the next start) and N nodes in this process, all on its
/// database, all unsealed by the same dev master key file. The first node creates the demo objects
/// exactly as <c>coffer dev</c> does; dev.json describes the first node and lists every node.
/// </summary>
public sealed class DevCluster : IAsyncDisposable
{
    public const int MinNodes = 2;
    public const int MaxNodes = 5;
    public const string PostgresDirectory = "postgres";
    private const string Database = "coffer";

    // A short full reload, so a change made through one node shows on the others within about a
    // second even without a change notification between nodes (docs/storage.md, Cluster.FullReloadSeconds).
    private const int FullReloadSeconds = 1;

    private readonly LocalPostgres _postgres;
    private readonly List<CofferServer> _nodes = [];

    private DevCluster(LocalPostgres postgres) => _postgres = postgres;

    public DevInfo Info { get; private set; } = null!;

    /// <summary>Whether <paramref name="dataDirectory"/> holds a dev cluster's database.</summary>
    public static bool ExistsIn(string dataDirectory) => Directory.Exists(Path.Combine(dataDirectory, PostgresDirectory));

    /// <param name="optionsFor">The options of node <c>i</c> (0-based) apart from storage; all in
    /// <paramref name="dataDirectory"/>.</param>
    public static async Task<DevCluster> StartAsync(int count, string dataDirectory, Func<int, CofferOptions> optionsFor,
        ILoggerFactory loggers, bool unaudited, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, MinNodes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxNodes);
        OwnerOnlyFiles.CreateDirectory(dataDirectory);
        if (Environment.IsPrivilegedProcess && !OperatingSystem.IsWindows())
        {
            // As root, LocalPostgres runs PostgreSQL as the 'postgres' user, which must pass through
            // the data directory to reach its own: search only (no listing); the files stay 0600.
            File.SetUnixFileMode(dataDirectory, File.GetUnixFileMode(dataDirectory) | UnixFileMode.OtherExecute);
        }

        var cluster = new DevCluster(new LocalPostgres(Path.Combine(dataDirectory, PostgresDirectory)));
        try
        {
            await cluster._postgres.StartAsync(ct);
            var connectionString = await EnsureDatabaseAsync(cluster._postgres, ct);
            var nodes = new List<DevNode>();
            DevInfo? first = null;
            for (var i = 0; i < count; i++)
            {
                var options = optionsFor(i);
                options.Storage = new StorageOptions { Engine = StorageOptions.Postgres, ConnectionString = connectionString };
                options.Cluster.FullReloadSeconds = FullReloadSeconds;
                CofferServer server;
                if (first is null)
                {
                    (server, first) = await DevEnvironment.StartFirstNodeAsync(options, loggers, time: null, unaudited, ct);
                }
                else
                {
                    options.Seal = Seal.SealKinds.Dev;
                    server = await CofferServer.StartAsync(options, loggers, time: null, unaudited, ct);
                }

                cluster._nodes.Add(server);
                nodes.Add(new DevNode(options.NodeId, DevEnvironment.XksBaseUrl(server, first.UriPrefix), server.AdminUrl.ToString().TrimEnd('/')));
            }

            cluster.Info = first! with { Nodes = nodes };
            await DevEnvironment.WriteAsync(Path.Combine(dataDirectory, DevEnvironment.FileName), cluster.Info, ct);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Node <paramref name="index"/>'s id: distinct per node, stable across starts.</summary>
    public static string NodeId(int index) => string.Create(CultureInfo.InvariantCulture, $"dev-{Cluster.NodeIdentity.FromHostName(Environment.MachineName)}-{index + 1}");

    // The database is made once; later starts find it.
    private static async Task<string> EnsureDatabaseAsync(LocalPostgres postgres, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(postgres.ConnectionString);
        await connection.OpenAsync(ct);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", Database);
        if (await exists.ExecuteScalarAsync(ct) is null)
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE {Database} TEMPLATE template0 ENCODING 'UTF8'", connection);
            await create.ExecuteNonQueryAsync(ct);
        }

        return postgres.ConnectionStringFor(Database);
    }

    /// <summary>Stops every node (the last started first), then PostgreSQL.</summary>
    public async ValueTask DisposeAsync()
    {
        for (var i = _nodes.Count - 1; i >= 0; i--)
        {
            await _nodes[i].DisposeAsync();
        }

        _nodes.Clear();
        await _postgres.StopAsync();
    }
}
