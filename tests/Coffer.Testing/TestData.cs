using System.Reflection;

namespace Coffer.Testing;

/// <summary>
/// Paths of the repository and of the external test vectors in <c>shared/testdata</c>, which lies
/// beside the repository (<c>../shared</c> from its root) on developer machines and in CI.
/// </summary>
public static class TestData
{
    /// <summary>The repository root, recorded at build time (the build output may live elsewhere).</summary>
    public static string RepositoryRoot { get; } = Path.GetFullPath(
        typeof(TestData).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "RepositoryRoot").Value!);

    public static string SharedRoot { get; } =
        Environment.GetEnvironmentVariable("COFFER_SHARED_DIR") is { Length: > 0 } shared
            ? Path.GetFullPath(shared)
            : Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared"));

    /// <summary>The full path of a file or folder under shared/testdata.</summary>
    public static string PathOf(params string[] parts) => Path.Combine([SharedRoot, "testdata", .. parts]);
}
