using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Coffer.Testing;

namespace Coffer.Core.Tests.Crypto;

/// <summary>
/// The external vectors live inside the repository (a clone standing alone passes its tests) and are
/// the bytes their SOURCE.md says were published: a checkout that rewrote line endings or a copy cut
/// short would make the known-answer tests test something else.
/// </summary>
public sealed partial class VectorFilesTests
{
    [Fact]
    public void The_vectors_lie_inside_the_repository_with_their_source_and_license()
    {
        Assert.StartsWith(TestData.RepositoryRoot, TestData.VectorsRoot, StringComparison.Ordinal);
        foreach (var folder in new[] { "nist-gcm", "sigv4", "wycheproof" })
        {
            Assert.True(File.Exists(TestData.PathOf(folder, "SOURCE.md")), $"{folder}/SOURCE.md is missing");
        }

        // NIST's vectors are a U.S. Government work (SOURCE.md says so); the others carry their license.
        Assert.True(File.Exists(TestData.PathOf("sigv4", "LICENSE")));
        Assert.True(File.Exists(TestData.PathOf("sigv4", "NOTICE")));
        Assert.True(File.Exists(TestData.PathOf("wycheproof", "LICENSE")));
    }

    [Fact]
    public void Nist_files_match_the_sha256_in_their_source_note()
    {
        var sums = NistSum().Matches(File.ReadAllText(TestData.PathOf("nist-gcm", "SOURCE.md")));
        Assert.Equal(2, sums.Count);
        foreach (Match sum in sums)
        {
            var bytes = File.ReadAllBytes(TestData.PathOf("nist-gcm", sum.Groups["file"].Value));
            Assert.Equal(long.Parse(sum.Groups["size"].Value, System.Globalization.CultureInfo.InvariantCulture), bytes.LongLength);
            Assert.Equal(sum.Groups["sha256"].Value, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
    }

    [Fact]
    public void Wycheproof_files_match_the_git_blob_ids_in_their_source_note()
    {
        var blobs = WycheproofBlob().Matches(File.ReadAllText(TestData.PathOf("wycheproof", "SOURCE.md")));
        Assert.Equal(2, blobs.Count);
        foreach (Match blob in blobs)
        {
            var bytes = File.ReadAllBytes(TestData.PathOf("wycheproof", blob.Groups["file"].Value));
            Assert.Equal(blob.Groups["blob"].Value, GitBlobId(bytes));
        }
    }

    /// <summary>Git's object id of a file: SHA-1 over "blob LENGTH\0" and the bytes.</summary>
    private static string GitBlobId(byte[] bytes)
    {
        var header = Encoding.ASCII.GetBytes($"blob {bytes.Length}\0");
#pragma warning disable CA5350 // SHA-1 is how git names objects; nothing here relies on its strength
        return Convert.ToHexStringLower(SHA1.HashData([.. header, .. bytes]));
#pragma warning restore CA5350
    }

    [GeneratedRegex(@"- (?<file>\S+\.rsp)\s+(?<size>\d+) bytes\s+sha256 (?<sha256>[0-9a-f]{64})")]
    private static partial Regex NistSum();

    [GeneratedRegex(@"-> (?<file>\S+\.json)\s+\(\d+ bytes, blob (?<blob>[0-9a-f]{40})\)")]
    private static partial Regex WycheproofBlob();
}
