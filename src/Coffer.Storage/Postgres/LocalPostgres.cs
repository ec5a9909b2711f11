using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Coffer.Storage.Postgres;

/// <summary>
/// A throw-away PostgreSQL server living in one directory, for tests and <c>coffer dev --cluster</c>:
/// Debian's <c>initdb</c> and <c>pg_ctl</c>, trust authentication for user <c>coffer</c> on loopback
/// and on a socket inside the directory only. Not for production: any local user may connect.
/// </summary>
/// <remarks>
/// <para>A directory that already holds a cluster is reused, so its data survives a stop (or a
/// <see cref="Kill"/>) and a new <see cref="StartAsync"/>. A restart tries the previous port first, so
/// connection strings handed out before stay valid when that port is still free.</para>
/// <para><c>initdb</c> refuses to run as root, and CI runs as root: then the directory is given to the
/// <c>postgres</c> user that Debian's package creates and the tools run through
/// <c>runuser -u postgres --</c>. The directory's parents must be traversable by that user (the
/// system temp directory is).</para>
/// <para>Not thread-safe: one caller starts and stops it.</para>
/// </remarks>
public sealed class LocalPostgres : IAsyncDisposable
{
    public const string DebianRoot = "/usr/lib/postgresql";
    public const string User = "coffer";
    private const string ServiceUser = "postgres";
    private const int PortAttempts = 5;

    private readonly string _binDirectory;
    private int? _port;

    /// <param name="dataDirectory">The cluster's directory: created (owner-only) and initialised when
    /// it holds no cluster, reused otherwise.</param>
    /// <param name="binDirectory">Where <c>initdb</c> and <c>pg_ctl</c> are; found with
    /// <see cref="FindBinDirectory()"/> when null.</param>
    public LocalPostgres(string dataDirectory, string? binDirectory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        DataDirectory = Path.GetFullPath(dataDirectory);
        // pg_ctl hands its -o options to a shell: the directory goes there in single quotes.
        if (DataDirectory.Contains('\'', StringComparison.Ordinal))
        {
            throw new ArgumentException($"A PostgreSQL directory must not contain a single quote: {DataDirectory}", nameof(dataDirectory));
        }

        _binDirectory = binDirectory is null ? FindBinDirectory() : CheckBinDirectory(binDirectory);
    }

    public string DataDirectory { get; }

    /// <summary>The server's log (pg_ctl -l), inside <see cref="DataDirectory"/>.</summary>
    public string LogPath => Path.Combine(DataDirectory, "coffer-postgres.log");

    /// <summary>The loopback port of the running server (or of the last one).</summary>
    public int Port => _port ?? throw new InvalidOperationException("The PostgreSQL server has not been started.");

    /// <summary>Npgsql connection string to the <c>postgres</c> database.</summary>
    public string ConnectionString => ConnectionStringFor("postgres");

    /// <summary>Npgsql connection string to <paramref name="database"/> on this server (a plain
    /// identifier: letters, digits, underscores).</summary>
    public string ConnectionStringFor(string database)
    {
        if (string.IsNullOrEmpty(database) || !database.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            throw new ArgumentException($"'{database}' is not a plain database name (letters, digits, underscores).", nameof(database));
        }

        return string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={Port};Username={User};Database={database}");
    }

    /// <summary>The highest <c>/usr/lib/postgresql/&lt;version&gt;/bin</c> that has the server
    /// tools, else <c>pg_config --bindir</c>.</summary>
    /// <exception cref="InvalidOperationException">Neither has them: the message names the package.</exception>
    public static string FindBinDirectory() => FindBinDirectory(DebianRoot, PgConfigBinDirectory);

    internal static string FindBinDirectory(string debianRoot, Func<string?> pgConfigBinDirectory)
    {
        var versioned = Directory.Exists(debianRoot)
            ? Directory.GetDirectories(debianRoot)
                .Select(d => (Directory: Path.Combine(d, "bin"), Version: decimal.TryParse(Path.GetFileName(d), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var v) ? v : -1))
                .Where(c => c.Version >= 0 && HasServerTools(c.Directory))
                .OrderByDescending(c => c.Version)
                .Select(c => c.Directory)
            : [];
        var found = versioned.FirstOrDefault();
        if (found is not null)
        {
            return found;
        }

        var fallback = pgConfigBinDirectory();
        return fallback is not null && HasServerTools(fallback) ? fallback : throw NotInstalled($"{debianRoot}/<version>/bin or pg_config --bindir");
    }

    private static string CheckBinDirectory(string directory) =>
        HasServerTools(directory) ? directory : throw NotInstalled(directory);

    private static bool HasServerTools(string directory) =>
        File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "pg_ctl"));

    private static InvalidOperationException NotInstalled(string where) =>
        new($"PostgreSQL's server tools (initdb, pg_ctl) were not found in {where}: install Debian's postgresql package (apt-get install postgresql).");

    private static string? PgConfigBinDirectory()
    {
        try
        {
            var result = RunAsync("pg_config", ["--bindir"], "/").GetAwaiter().GetResult();
            return result.ExitCode == 0 ? result.Output.Trim() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // pg_config is not installed either
        }
    }

    /// <summary>Initialises the directory if it holds no cluster, then starts the server on a free
    /// loopback port (the previous one first) and waits until it accepts connections.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (!File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            await InitAsync(cancellationToken);
        }
        else if (Environment.IsPrivilegedProcess)
        {
            await GiveToServiceUserAsync(cancellationToken);
        }

        WaitUntilReaped();
        for (var attempt = 1; ; attempt++)
        {
            var port = attempt == 1 && _port is { } previous && IsFree(previous) ? previous : FreePort();
            var logStart = File.Exists(LogPath) ? new FileInfo(LogPath).Length : 0;
            var options = $"-p {port} -k '{DataDirectory}' -c listen_addresses=127.0.0.1 -c unix_socket_permissions=0700";
            var result = await PgCtlAsync(["-D", DataDirectory, "-o", options, "-l", LogPath, "-w", "start"], cancellationToken);
            if (result.ExitCode == 0)
            {
                _port = port;
                return;
            }

            var log = ReadLogFrom(logStart);
            // Another process may take the free port between the probe and the bind: try another.
            if (attempt < PortAttempts && log.Contains("Address already in use", StringComparison.Ordinal))
            {
                continue;
            }

            throw new InvalidOperationException($"PostgreSQL did not start in {DataDirectory} (pg_ctl exit {result.ExitCode}): {result.Error.Trim()} {log.Trim()}");
        }
    }

    private async Task InitAsync(CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("A local PostgreSQL server is run with Debian's postgresql package only.");
        }

        Directory.CreateDirectory(DataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (Environment.IsPrivilegedProcess)
        {
            await GiveToServiceUserAsync(cancellationToken);
        }

        var result = await RunToolAsync("initdb", ["-D", DataDirectory, "-A", "trust", "-U", User, "--encoding=UTF8", "--no-locale"], cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"initdb failed in {DataDirectory} (exit {result.ExitCode}): {result.Error.Trim()}");
        }
    }

    private async Task GiveToServiceUserAsync(CancellationToken cancellationToken)
    {
        var result = await RunAsync("chown", ["-R", $"{ServiceUser}:{ServiceUser}", DataDirectory], "/", cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"Could not give {DataDirectory} to the '{ServiceUser}' user, which Debian's postgresql package creates: {result.Error.Trim()}");
        }
    }

    /// <summary>Stops the server (fast shutdown: open sessions are ended, everything committed is
    /// kept). Does nothing when it is not running.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (PostmasterPid() is null)
        {
            return;
        }

        var result = await PgCtlAsync(["-D", DataDirectory, "-m", "fast", "-w", "stop"], cancellationToken);
        if (result.ExitCode != 0 && PostmasterPid() is not null)
        {
            throw new InvalidOperationException($"pg_ctl stop failed in {DataDirectory} (exit {result.ExitCode}): {result.Error.Trim()}");
        }
    }

    /// <summary>Crashes the server, for failure tests: SIGKILL to the postmaster and every process it
    /// started, then waits until they are dead. Committed data stays in the directory; PostgreSQL
    /// recovers it on the next start.</summary>
    public void Kill()
    {
        if (PostmasterPid() is not { } postmaster)
        {
            return;
        }

        int[] victims = [postmaster, .. ChildrenOf(postmaster)];
        foreach (var pid in victims)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
        }

        WaitFor(() => !victims.Any(IsAlive), "to die after SIGKILL");
    }

    // PostgreSQL takes a zombie postmaster (dead, not yet reaped), whose pid still answers
    // kill(pid, 0), for a running one and refuses to start ("lock file postmaster.pid already
    // exists"). After a Kill the postmaster is not our child, so init reaps it when it gets to it.
    private void WaitUntilReaped()
    {
        if (ReadPostmasterPid() is { } pid && !IsAlive(pid))
        {
            WaitFor(() => Stat(pid) is null, "to be reaped after it died");
        }
    }

    private void WaitFor(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                throw new InvalidOperationException($"PostgreSQL processes of {DataDirectory} took more than 30 s {what}.");
            }

            Thread.Sleep(10);
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    // The running postmaster's pid, if any.
    private int? PostmasterPid() => ReadPostmasterPid() is { } pid && IsAlive(pid) ? pid : null;

    private int? ReadPostmasterPid()
    {
        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        try
        {
            var first = File.ReadLines(pidFile).FirstOrDefault();
            return int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    // /proc/<pid>/stat is "pid (comm) state ppid ..."; comm may hold spaces, so parse after the last ')'.
    private static (char State, int Parent)? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (fields[0][0], int.Parse(fields[1], CultureInfo.InvariantCulture));
        }
        catch (IOException)
        {
            return null;
        }
    }

    // A zombie has exited; only its parent's wait is missing.
    private static bool IsAlive(int pid) => Stat(pid) is { State: not 'Z' and not 'X' };

    private static IEnumerable<int> ChildrenOf(int parent) =>
        Directory.GetDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0)
            .Where(pid => pid > 0 && Stat(pid)?.Parent == parent)
            .ToArray();

    private string ReadLogFrom(long offset)
    {
        try
        {
            using var log = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            log.Seek(Math.Min(offset, log.Length), SeekOrigin.Begin);
            using var reader = new StreamReader(log);
            return reader.ReadToEnd();
        }
        catch (FileNotFoundException)
        {
            return "";
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var probe = new TcpListener(IPAddress.Loopback, port);
            probe.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private Task<ToolResult> PgCtlAsync(string[] arguments, CancellationToken cancellationToken) =>
        RunToolAsync("pg_ctl", arguments, cancellationToken);

    // As root through runuser (initdb and postgres refuse root), otherwise as the current user. The
    // working directory is "/" so the service user never starts in a directory it cannot read.
    private Task<ToolResult> RunToolAsync(string tool, string[] arguments, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_binDirectory, tool);
        return Environment.IsPrivilegedProcess
            ? RunAsync("runuser", ["-u", ServiceUser, "--", path, .. arguments], "/", cancellationToken)
            : RunAsync(path, arguments, "/", cancellationToken);
    }

    private static async Task<ToolResult> RunAsync(string file, string[] arguments, string workingDirectory, CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return new ToolResult(process.ExitCode, await output, await error);
    }

    private sealed record ToolResult(int ExitCode, string Output, string Error);
}
