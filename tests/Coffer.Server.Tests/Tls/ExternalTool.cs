using System.Diagnostics;

namespace Coffer.Server.Tests.Tls;

/// <summary>Runs a command-line tool (curl, openssl) with arguments passed as a list (no shell),
/// stdin closed at once, and a hard time limit.</summary>
internal static class ExternalTool
{
    public sealed record Output(int ExitCode, string StandardOutput, string StandardError);

    public static async Task<Output> RunAsync(string path, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new Output(process.ExitCode, await stdout, await stderr);
    }
}
