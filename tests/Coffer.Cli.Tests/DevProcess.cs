using System.Diagnostics;
using Coffer.Server.Hosting;

namespace Coffer.Cli.Tests;

/// <summary><c>coffer dev</c> as a user runs it: the built executable as a child process, with its
/// data directory under a fresh working directory, ready once it has written dev.json.</summary>
internal sealed class DevProcess : IAsyncDisposable
{
    private readonly Process _process;

    private DevProcess(Process process, string workingDirectory, DevInfo info)
    {
        _process = process;
        WorkingDirectory = workingDirectory;
        Info = info;
    }

    public string WorkingDirectory { get; }

    public string DataDirectory => Path.Combine(WorkingDirectory, "data");

    public DevInfo Info { get; }

    public int ProcessId => _process.Id;

    public static async Task<DevProcess> StartAsync(params string[] extraArgs)
    {
        var directory = Directory.CreateTempSubdirectory("coffer-dev-process-").FullName;
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "coffer.dll"), "dev", .. extraArgs, "--data", "data", "--xks-port", "0", "--admin-port", "0"])
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        var path = Path.Combine(directory, "data", DevEnvironment.FileName);
        for (var waited = 0; waited < 120; waited++)
        {
            if (process.HasExited)
            {
                var exit = $"coffer dev exited with {process.ExitCode}: {await stderr}";
                process.Dispose();
                Directory.Delete(directory, recursive: true);
                Assert.Fail(exit);
            }

            if (await DevEnvironment.ReadAsyncOrNull(path) is { } info)
            {
                return new DevProcess(process, directory, info);
            }

            await Task.Delay(500);
        }

        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
        Directory.Delete(directory, recursive: true);
        Assert.Fail("coffer dev wrote no dev.json within 60 s.");
        return null!;
    }

    public async ValueTask DisposeAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        Directory.Delete(WorkingDirectory, recursive: true);
    }
}
