using System.ComponentModel;
using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary><c>coffer version</c> (src/Coffer.Cli/Commands/VersionCommand.cs): the build's version and commit.</summary>
public sealed class VersionCommandTests
{
    [Fact]
    public async Task Version_names_the_commit_of_the_tree_the_executable_was_built_from()
    {
        // The built executable as its own process, as an operator runs it.
        var version = await Cli.RunProcessAsync(new Dictionary<string, string>(), stdin: null, "version");
        var head = await HeadAsync();

        Assert.True(version.ExitCode == 0, version.ToString());
        Assert.Matches(@"^Coffer\s+\d+\.\d+\.\d+\n", version.Out);
        Assert.Matches(@"Runtime\s+\.NET 10\.", version.Out);
        // The build and this test see one tree: a commit made between the two fails it.
        Assert.Matches(head is null
            ? @"Commit\s+unknown \(built outside a git work tree\)\n"
            : $@"Commit\s+{head}( \(with uncommitted changes\))?\n", version.Out);
    }

    /// <summary>The commit checked out in the repository, or null where git or the work tree is missing.</summary>
    private static async Task<string?> HeadAsync()
    {
        try
        {
            var head = await ExternalTool.RunAsync("git", ["-C", TestData.RepositoryRoot, "rev-parse", "HEAD"]);
            return head.ExitCode == 0 ? head.StandardOutput.Trim() : null;
        }
        catch (Win32Exception)
        {
            return null; // no git on PATH
        }
    }
}
