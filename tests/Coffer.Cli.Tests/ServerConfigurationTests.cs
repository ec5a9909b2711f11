using System.Text.Json;

namespace Coffer.Cli.Tests;

/// <summary><c>coffer server</c> with a configuration that cannot work: it says what to fix, one line per
/// problem naming the setting, exits 1, shows no stack trace and leaves nothing behind.</summary>
public sealed class ServerConfigurationTests
{
    [Fact]
    public async Task A_bad_configuration_is_refused_with_one_line_per_problem_and_no_stack_trace()
    {
        var directory = Directory.CreateTempSubdirectory("coffer-config-").FullName;
        try
        {
            var data = Path.Combine(directory, "data");
            var config = Path.Combine(directory, "coffer.json");
            await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
            {
                DataDirectory = data,
                Seal = "dev",
                Xks = new { Address = "127.0.0.1", Port = 70000, AllowPlainHttp = true },
                Admin = new { Address = "127.0.0.1", Port = 0 },
                Audit = new { File = new { Enabled = true, KeepFiles = 0 } },
            }));

            await using var server = CofferProcess.Start(directory, ["server", "--config", config]);
            var exitCode = await server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Equal(1, exitCode);
            Assert.Contains("\n  Xks:Port must be between 0 (a free port) and 65535, not 70000.\n", server.Output, StringComparison.Ordinal);
            Assert.Contains("\n  Audit:File:KeepFiles must be 1..1000, not 0.\n", server.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(" at Coffer.", server.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("Exception", server.Output, StringComparison.Ordinal);
            Assert.False(Directory.Exists(data));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
