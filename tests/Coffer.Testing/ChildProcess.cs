using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Coffer.Testing;

/// <summary>
/// A long-running real process a test starts (HAProxy, a Coffer node), its standard output and error
/// kept, interleaved by line, for assertions.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ChildProcess(Process process) => _process = process;

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Standard output and error so far.</summary>
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

    /// <param name="environment">Variables to set (a null value removes one) over this process's.</param>
    /// <param name="workingDirectory">This process's own when null.</param>
    public static ChildProcess Start(string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        // Through env, which then runs the program itself (same process id), with SIGINT's default
        // action restored: a test host started as a background job ignores SIGINT, its children inherit
        // that, and .NET then never sees a test's Ctrl+C, which a user's terminal does deliver.
        var start = new ProcessStartInfo("/usr/bin/env")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        start.With(["--default-signal=INT", file, .. arguments], environment);

        var running = new ChildProcess(new Process { StartInfo = start });
        running._process.OutputDataReceived += (_, line) => running.Append(line.Data);
        running._process.ErrorDataReceived += (_, line) => running.Append(line.Data);
        running._process.Start();
        running._process.BeginOutputReadLine();
        running._process.BeginErrorReadLine();
        return running;
    }

    /// <summary>Its exit code once it has exited and all its output is read.</summary>
    public async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync();
        return _process.ExitCode;
    }

    /// <summary>SIGTERM (a graceful stop), then SIGKILL if it has not exited within
    /// <paramref name="grace"/>. Returns its exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan grace)
    {
        if (!_process.HasExited)
        {
            // .NET sends only SIGKILL; kill(1) sends the signal a service manager stops a service with.
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
            using var patience = new CancellationTokenSource(grace);
            try
            {
                await _process.WaitForExitAsync(patience.Token);
            }
            catch (OperationCanceledException)
            {
                Kill();
            }
        }

        return await WaitForExitAsync();
    }

    /// <summary>SIGKILL to it and any process it started: no chance to clean up, as in a crash.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.WaitForExit();
    }

    /// <summary>SIGKILL to this process alone, at once: a crash, for a process that starts no other (a
    /// Coffer node). <see cref="Kill"/> goes through .NET's tree kill, which first stops the process
    /// (SIGSTOP) and then reads every process on the machine to find its children before the SIGKILL;
    /// meanwhile the process is frozen, not dead: its ports still accept connections that nobody answers.
    /// On a loaded machine that lasted over 200 ms, long enough to be a different failure (a hung node)
    /// from the one a crash test means to cause.</summary>
    public void Crash()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
        }

        _process.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
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
