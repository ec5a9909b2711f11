using Coffer.Server.Hosting;
using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary><c>coffer dev</c> as a user runs it: the built executable as a child process (under umask
/// 022, <see cref="CofferProcess"/>), with its data directory <c>data</c> under a fresh working
/// directory, ready once it has written dev.json.</summary>
internal sealed class DevProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;
    private readonly bool _ownsDirectory;

    private DevProcess(ChildProcess process, string workingDirectory, bool ownsDirectory, DevInfo info)
    {
        _process = process;
        _ownsDirectory = ownsDirectory;
        WorkingDirectory = workingDirectory;
        Info = info;
    }

    public string WorkingDirectory { get; }

    public string DataDirectory => Path.Combine(WorkingDirectory, "data");

    public DevInfo Info { get; }

    public int ProcessId => _process.ProcessId;

    /// <summary>Everything it printed so far.</summary>
    public string Output => _process.Output;

    public static Task<DevProcess> StartAsync(params string[] extraArgs) =>
        StartAsync(Directory.CreateTempSubdirectory("coffer-dev-process-").FullName, ownsDirectory: true, extraArgs);

    /// <summary>Starts it with <paramref name="environment"/> set besides the defaults.</summary>
    public static Task<DevProcess> StartAsync(IReadOnlyDictionary<string, string?> environment, params string[] extraArgs) =>
        StartAsync(Directory.CreateTempSubdirectory("coffer-dev-process-").FullName, ownsDirectory: true, extraArgs, environment);

    /// <summary>Starts it in <paramref name="workingDirectory"/>, which the caller keeps and deletes.</summary>
    public static Task<DevProcess> StartInAsync(string workingDirectory, params string[] extraArgs) =>
        StartAsync(workingDirectory, ownsDirectory: false, extraArgs);

    private static async Task<DevProcess> StartAsync(string directory, bool ownsDirectory, string[] extraArgs, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var process = CofferProcess.Start(directory, ["dev", .. extraArgs, "--data", "data", "--xks-port", "0", "--admin-port", "0"], environment);
        var path = Path.Combine(directory, "data", DevEnvironment.FileName);
        string failure;
        for (var waited = 0; ; waited++)
        {
            if (process.HasExited)
            {
                failure = $"coffer dev exited: {process.Output}";
                break;
            }

            if (await DevEnvironment.ReadAsyncOrNull(path) is { } info)
            {
                return new DevProcess(process, directory, ownsDirectory, info);
            }

            if (waited == 120)
            {
                failure = "coffer dev wrote no dev.json within 60 s.";
                break;
            }

            await Task.Delay(500);
        }

        await process.DisposeAsync();
        if (ownsDirectory)
        {
            Directory.Delete(directory, recursive: true);
        }

        Assert.Fail(failure);
        return null!;
    }

    /// <summary>Ctrl+C (SIGINT), as a user stops it; returns once it has exited (60 s at most).</summary>
    public async Task InterruptAsync()
    {
        using (var kill = System.Diagnostics.Process.Start("kill", ["-INT", ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        // A killed dev --cluster leaves its PostgreSQL running: a failed test must not leak it.
        new Coffer.Storage.Postgres.LocalPostgres(Path.Combine(DataDirectory, DevCluster.PostgresDirectory)).Kill();
        if (_ownsDirectory)
        {
            Directory.Delete(WorkingDirectory, recursive: true);
        }
    }
}
