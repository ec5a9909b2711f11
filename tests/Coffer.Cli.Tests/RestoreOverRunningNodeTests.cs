using Coffer.Testing;
using static Coffer.Cli.Tests.BackupSteps;

namespace Coffer.Cli.Tests;

/// <summary>
/// <c>coffer restore --replace</c> (docs/backup.md) refuses to replace the database of a node that is
/// still running on the directory, and goes ahead once the node has stopped.
/// </summary>
public sealed class RestoreOverRunningNodeTests : IDisposable
{
    private readonly string _root = Cli.EmptyDirectory();

    private string DataDirectory => Path.Combine(_root, "data");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_restore_over_a_running_node_is_refused_and_changes_nothing_and_goes_ahead_once_it_stopped()
    {
        var backup = Path.Combine(_root, "coffer.backup");
        await using (var node = await DevServer.StartAsync(dataDirectory: DataDirectory))
        {
            await MustAsync(node, "backup", "--output", backup);
            await MustAsync(node, "key", "create", "demo", "--name", "made-after-the-backup");

            var refused = await RestoreAsync(backup);

            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("has not stopped", refused.Error, StringComparison.Ordinal);
            Assert.Contains("Stop it before restoring", refused.Error, StringComparison.Ordinal);
            Assert.Contains("made-after-the-backup", (await MustAsync(node, "key", "list")).Out, StringComparison.Ordinal);
        }

        var replaced = await RestoreAsync(backup);

        Assert.True(replaced.ExitCode == 0, replaced.ToString());
        await using (var node = await DevServer.StartAsync(dataDirectory: DataDirectory))
        {
            Assert.DoesNotContain("made-after-the-backup", (await MustAsync(node, "key", "list")).Out, StringComparison.Ordinal);
        }
    }

    private Task<CliResult> RestoreAsync(string backup) =>
        Cli.RunAsync(Cli.Environment(null, null), ["restore", backup, "--data", DataDirectory, "--allow-destroyed-keys-to-return", "--replace"]);
}
