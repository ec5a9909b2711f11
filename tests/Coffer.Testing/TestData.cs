using System.Reflection;

namespace Coffer.Testing;

/// <summary>
/// Paths of the repository and of the external test vectors kept in it under <c>tests/vectors</c>
/// (Wycheproof, NIST CAVP GCM, the AWS SigV4 suite; each folder's SOURCE.md says where it comes
/// from and its LICENSE how it may be used), so a clone standing alone passes its tests.
/// </summary>
public static class TestData
{
    /// <summary>The repository root, recorded at build time (the build output may live elsewhere).</summary>
    public static string RepositoryRoot { get; } = Path.GetFullPath(
        typeof(TestData).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "RepositoryRoot").Value!);

    /// <summary>The folder that holds the vectors: <c>tests/vectors</c> inside the repository.</summary>
    public static string VectorsRoot { get; } = Path.Combine(RepositoryRoot, "tests", "vectors");

    /// <summary>The full path of a file or folder under tests/vectors.</summary>
    public static string PathOf(params string[] parts) => Path.Combine([VectorsRoot, .. parts]);
}
