using System.Net;
using Coffer.Server.Hosting;
using Coffer.Server.Tests.Management;
using Coffer.Testing;

namespace Coffer.Server.Tests.Cluster;

/// <summary>
/// Nodes A and B on one PostgreSQL database, both audited into its one chain (docs/cluster.md, "One
/// audit log"): B starts from A's dev seal key and demo credentials. Each node may reach the database
/// by a connection string of its own (through a <see cref="TcpProxy"/> to cut one node off).
/// </summary>
internal sealed class TwoNodes : IAsyncDisposable
{
    private readonly string _bDirectory;

    private TwoNodes(DevServer a, DevServer b, string bDirectory, string storeId)
    {
        A = a;
        B = b;
        _bDirectory = bDirectory;
        StoreId = storeId;
    }

    public DevServer A { get; }

    /// <summary>Node A's management API, as its administrator.</summary>
    public HttpClient AdminA => A.Admin;

    public DevServer B { get; }

    /// <summary>The demo key store's id.</summary>
    public string StoreId { get; }

    /// <param name="connectionString">The database, as node B reaches it (and A, unless <paramref name="aConnectionString"/>).</param>
    /// <param name="stalenessSeconds">Both nodes' <c>Cluster:StalenessSeconds</c>.</param>
    /// <param name="aConnectionString">The same database as node A reaches it, e.g. through a proxy.</param>
    public static async Task<TwoNodes> StartAsync(string connectionString, int stalenessSeconds, string? aConnectionString = null)
    {
        var a = await DevServer.StartAsync(o => OnPostgres(o, aConnectionString ?? connectionString, "node-a", stalenessSeconds));
        DevServer? b = null;
        var bDirectory = Directory.CreateTempSubdirectory("coffer-test-b-").FullName;
        try
        {
            foreach (var file in new[] { DevEnvironment.FileName, "master.key" })
            {
                File.Copy(Path.Combine(a.DataDirectory, file), Path.Combine(bDirectory, file));
            }

            b = await DevServer.StartAsync(o => OnPostgres(o, connectionString, "node-b", stalenessSeconds), bDirectory);
            var stores = (await a.Admin.GetJsonAsync("/api/v1/keystores")).AsArray();
            var storeId = (string)stores.Single(s => (string?)s!["uriPrefix"] == a.Info.UriPrefix)!["id"]!;
            return new TwoNodes(a, b, bDirectory, storeId);
        }
        catch
        {
            if (b is not null)
            {
                await b.DisposeAsync();
            }

            await a.DisposeAsync();
            Directory.Delete(bDirectory, recursive: true);
            throw;
        }
    }

    /// <summary>A new key in the demo key store, made on A: its id and name.</summary>
    public async Task<(string Id, string Name)> CreateKeyAsync()
    {
        var name = ManagementApi.Unique("key");
        var key = await AdminA.CreateKeyAsync(StoreId, new { name });
        return ((string)key["id"]!, name);
    }

    /// <summary>The kmsRequestIds of the XKS encrypt records in the cluster's one audit chain.</summary>
    public async Task<HashSet<string>> AuditedRequestIdsAsync()
    {
        var records = (await B.Admin.GetJsonAsync("/api/v1/audit/records?action=xks.encrypt&limit=1000"))["records"]!.AsArray();
        return [.. records.Select(r => (string?)r!["kmsRequestId"]).OfType<string>()];
    }

    /// <summary>What <c>GET /ping</c> on a node's XKS listener answers: 200 while it serves key calls.</summary>
    public static async Task<HttpStatusCode> PingAsync(Uri xks)
    {
        var response = await XksClient.SendUnsignedAsync(HttpMethod.Get, new Uri(xks, "/ping"));
        return (HttpStatusCode)response.Status;
    }

    private static void OnPostgres(CofferOptions options, string connectionString, string nodeId, int stalenessSeconds)
    {
        options.NodeId = nodeId;
        options.Storage.Engine = StorageOptions.Postgres;
        options.Storage.ConnectionString = connectionString;
        options.Cluster.StalenessSeconds = stalenessSeconds;
    }

    public async ValueTask DisposeAsync()
    {
        await B.DisposeAsync();
        await A.DisposeAsync();
        Directory.Delete(_bDirectory, recursive: true);
    }
}
