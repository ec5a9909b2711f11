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
    public void Every_cited_section_is_a_heading_of_its_page()
    {
        // "docs/cluster.md, "One audit log"" sends a reader to a section: it must be there.
        var missing = SourceFiles()
            .SelectMany(file => SectionCitation().Matches(File.ReadAllText(file)).Select(m => (file, page: m.Groups[1].Value, section: m.Groups[2].Value)))
            .Where(c => File.Exists(Path.Combine(TestData.RepositoryRoot, c.page)))
            .Where(c => !Heading().Matches(File.ReadAllText(Path.Combine(TestData.RepositoryRoot, c.page)))
                .Any(h => h.Groups[1].Value.Contains(c.section, StringComparison.Ordinal)))
            .Select(c => $"{Path.GetRelativePath(TestData.RepositoryRoot, c.file)} cites {c.page}, \"{c.section}\"")
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

    [Fact]
    public void Nothing_cites_an_issue_by_number()
    {
        // Issues are the work's queue, not part of the product: a reader of a clone cannot open them,
        // so a reason lives in the comment or in docs/, in its own words.
        var cited = SourceFiles()
            .SelectMany(file => IssueCitation().Matches(File.ReadAllText(file)).Select(m => $"{Path.GetRelativePath(TestData.RepositoryRoot, file)}: {m.Value}"))
            .ToList();
        Assert.True(cited.Count == 0, string.Join(Environment.NewLine, cited));
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

    [GeneratedRegex(@"\bissues? #?[0-9]+\b", RegexOptions.IgnoreCase)]
    private static partial Regex IssueCitation();

    [GeneratedRegex(@"(?<![\w/.])docs/[a-z0-9-]+\.md")]
    private static partial Regex DocsCitation();

    [GeneratedRegex(@"(?<![\w/.])(docs/[a-z0-9-]+\.md),? \(?""([^""\n]+)""")]
    private static partial Regex SectionCitation();

    [GeneratedRegex(@"^#+ (.+)$", RegexOptions.Multiline)]
    private static partial Regex Heading();
}
