using System.Diagnostics;
using System.Globalization;

namespace Coffer.Bench;

/// <summary>
/// The throw-away PostgreSQL of the cluster rows, run in the foreground as the bench's child (so it dies
/// with the bench) on a cluster directory that `coffer dev --cluster` made with Debian's initdb
/// (src/Coffer.Storage/Postgres/LocalPostgres.cs). Its settings are initdb's defaults, durable ones
/// included (fsync, synchronous_commit on): the bench only chooses the port and listens on loopback.
/// As root it runs as Debian's 'postgres' user, who owns the directory (PostgreSQL refuses root).
/// </summary>
public sealed class PostgresServer
{
    private const string DebianRoot = "/usr/lib/postgresql";

    private PostgresServer(Process process, int port, int postmaster)
    {
        Process = process;
        Port = port;
        Postmaster = postmaster;
    }

    public Process Process { get; }

    public int Port { get; }

    /// <summary>The postmaster, parent of every backend: its process tree is PostgreSQL's CPU.</summary>
    public int Postmaster { get; }

    /// <summary>The database `coffer dev --cluster` made (src/Coffer.Server/Hosting/DevCluster.cs), as the
    /// user it trusts on loopback.</summary>
    public string ConnectionString => string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={Port};Username=coffer;Database=coffer");

    public static async Task<PostgresServer> StartAsync(ChildProcesses children, string directory, string log)
    {
        var bin = BinDirectory();
        var port = ChildProcesses.FreePort();
        string[] postgres = [Path.Combine(bin, "postgres"), "-D", directory, "-p", port.ToString(CultureInfo.InvariantCulture), "-k", directory,
            "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_permissions=0700"];
        var process = children.Start("postgres", null, log, Environment.IsPrivilegedProcess ? ["runuser", "-u", "postgres", "--", .. postgres] : postgres);
        var pidFile = Path.Combine(directory, "postmaster.pid");
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromMinutes(1))
        {
            if (process.HasExited) throw new BenchException($"PostgreSQL exited ({process.ExitCode}):\n{ChildProcesses.Tail(log)}");
            // postmaster.pid: pid on line 1, port on line 4, "ready" on line 8 once it accepts connections.
            var lines = File.Exists(pidFile) ? ReadShared(pidFile) : [];
            if (lines.Length >= 8 && lines[7].Trim() == "ready" && lines[3].Trim() == port.ToString(CultureInfo.InvariantCulture))
                return new PostgresServer(process, port, int.Parse(lines[0], CultureInfo.InvariantCulture));
            await Task.Delay(100);
        }
        throw new BenchException($"PostgreSQL did not get ready within a minute:\n{ChildProcesses.Tail(log)}");
    }

    private static string[] ReadShared(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return new StreamReader(stream).ReadToEnd().Split('\n');
        }
        catch (IOException) { return []; }
        catch (UnauthorizedAccessException) { return []; }
    }

    /// <summary>The newest /usr/lib/postgresql/&lt;version&gt;/bin with a server.</summary>
    private static string BinDirectory() =>
        (Directory.Exists(DebianRoot) ? Directory.GetDirectories(DebianRoot) : [])
            .Select(d => Path.Combine(d, "bin"))
            .Where(d => File.Exists(Path.Combine(d, "postgres")))
            .OrderByDescending(d => decimal.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), CultureInfo.InvariantCulture, out var v) ? v : -1)
            .FirstOrDefault()
        ?? throw new BenchException($"no PostgreSQL server in {DebianRoot}/<version>/bin: install Debian's postgresql package");
}
