using System.Reflection;

namespace Coffer.Server.Hosting;

/// <summary>
/// What this build of Coffer is: its version and the git commit it was built from. The SDK's source
/// control support stamps the commit into the informational version (<c>1.0.0+&lt;commit&gt;</c>), and
/// Directory.Build.targets adds <c>.dirty</c> when tracked files had uncommitted changes; a build
/// outside a git work tree has neither.
/// </summary>
public static class BuildInfo
{
    private static readonly string Informational =
        typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    private static readonly string[] Metadata = Informational.Contains('+', StringComparison.Ordinal)
        ? Informational[(Informational.IndexOf('+', StringComparison.Ordinal) + 1)..].Split('.')
        : [];

    /// <summary>The version without build metadata, e.g. <c>1.0.0</c>.</summary>
    public static string Version { get; } = Informational.Split('+')[0];

    /// <summary>The full commit id (SHA-1 or SHA-256), or null for a build made outside a git work tree.</summary>
    public static string? Commit { get; } = Metadata.LastOrDefault(IsCommitId);

    /// <summary>Whether tracked files differed from <see cref="Commit"/> when it was built.</summary>
    public static bool Dirty { get; } = Metadata.Contains("dirty", StringComparer.Ordinal);

    private static bool IsCommitId(string text) => text.Length is 40 or 64 && text.All(char.IsAsciiHexDigitLower);
}
