using System.Diagnostics;
using System.Text;

namespace Coffer.Cli.Tests;

/// <summary>
/// The built executable as a long-running child process (<c>coffer dev</c>, <c>coffer server</c>), as a
/// user starts it, under <c>umask 022</c>: the usual default, with which every file a program creates
/// is readable by everyone unless the program says otherwise. Its output is kept for assertions.
/// </summary>
internal sealed class CofferProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private CofferProcess(Process process) => _process = process;

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Standard output and error so far, interleaved by line.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static CofferProcess Start(string workingDirectory, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        // exec: the shell becomes coffer, so ProcessId is coffer's own.
        foreach (var arg in (string[])["-c", "umask 022; exec \"$@\"", "sh", Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", Path.Combine(AppContext.BaseDirectory, "coffer.dll"), .. args])
        {
            start.ArgumentList.Add(arg);
        }

        // The test runner's own settings must not leak into the child.
        start.Environment.Remove(Client.ClientSettings.AddressVariable);
        start.Environment.Remove(Client.ClientSettings.TokenVariable);
        var process = new Process { StartInfo = start };
        var running = new CofferProcess(process);
        process.OutputDataReceived += (_, line) => running.Append(line.Data);
        process.ErrorDataReceived += (_, line) => running.Append(line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return running;
    }

    /// <summary>Waits until the process ends by itself; its exit code.</summary>
    public async Task<int> ExitCodeAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
