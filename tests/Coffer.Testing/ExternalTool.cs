using System.Diagnostics;

namespace Coffer.Testing;

/// <summary>Runs a command-line tool (curl, openssl, dpkg) with arguments passed as a list (no shell),
/// stdin closed at once, and a hard time limit.</summary>
public static class ExternalTool
{
    public sealed record Output(int ExitCode, string StandardOutput, string StandardError)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{StandardOutput}\n--- stderr\n{StandardError}";
    }

    /// <param name="timeout">60 s when null; past it the tool and its children are killed.</param>
    /// <param name="environment">Variables to set (a null value removes one) over this process's.</param>
    public static async Task<Output> RunAsync(string path, IEnumerable<string> arguments, TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start.With(arguments, environment))!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var patience = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(patience.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new Output(process.ExitCode, await stdout, await stderr);
    }
}
