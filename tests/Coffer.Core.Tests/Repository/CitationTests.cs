using System.Text.RegularExpressions;
using Coffer.Testing;

namespace Coffer.Core.Tests.Repository;

/// <summary>
/// The repository explains itself: what its code and docs cite lies inside it, so a clone standing
/// alone can be read and tested.
/// </summary>
public sealed partial class CitationTests
{
    private static readonly string[] Roots = ["src", "tests", "bench", "docs"];

    /// <summary>The folder of background notes that lies beside a developer's checkout, spelled so
    /// that this file does not match itself.</summary>
    private static readonly string BesideTheRepository = string.Concat("../", "shared");

    [Fact]
    public void Every_cited_docs_page_exists()
    {
        var missing = SourceFiles()
            .SelectMany(file => DocsCitation().Matches(File.ReadAllText(file)).Select(m => (file, page: m.Value)))
            .Where(c => !File.Exists(Path.Combine(TestData.RepositoryRoot, c.page)))
            .Select(c => $"{Path.GetRelativePath(TestData.RepositoryRoot, c.file)} cites {c.page}")
            .Distinct()
            .ToList();
        Assert.True(missing.Count == 0, string.Join(Environment.NewLine, missing));
    }

    [Fact]
    public void Nothing_cites_a_folder_beside_the_repository()
    {
        var outside = SourceFiles()
            .Where(file => File.ReadAllText(file).Contains(BesideTheRepository, StringComparison.Ordinal))
            .Select(file => Path.GetRelativePath(TestData.RepositoryRoot, file))
            .ToList();
        Assert.True(outside.Count == 0, "cite files beside the repository: " + string.Join(", ", outside));
    }

    private static IEnumerable<string> SourceFiles() =>
        Roots.Select(root => Path.Combine(TestData.RepositoryRoot, root))
            .Where(Directory.Exists)
            .SelectMany(root => Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            .Where(file => file.EndsWith(".cs", StringComparison.Ordinal) || file.EndsWith(".md", StringComparison.Ordinal)
                || file.EndsWith(".sh", StringComparison.Ordinal))
            .Where(file => !IsBuildOutput(file) && !file.Contains($"{Path.DirectorySeparatorChar}vectors{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Append(Path.Combine(TestData.RepositoryRoot, "README.md"));

    private static bool IsBuildOutput(string file) =>
        file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
        || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal);

    [GeneratedRegex(@"(?<![\w/.])docs/[a-z0-9-]+\.md")]
    private static partial Regex DocsCitation();
}
