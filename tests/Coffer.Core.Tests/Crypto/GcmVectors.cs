using System.Text.Json;
using Coffer.Testing;

namespace Coffer.Core.Tests.Crypto;

/// <summary>One AES-GCM known-answer case from an external vector file.</summary>
/// <param name="Source">File and case id, for failure messages.</param>
/// <param name="Valid">False when decryption must fail (Wycheproof "invalid", NIST "FAIL").</param>
internal sealed record GcmCase(string Source, byte[] Key, byte[] Iv, byte[] Aad, byte[] Plaintext, byte[] Ciphertext, byte[] Tag, bool Valid);

/// <summary>
/// Readers for the AES-GCM vectors in tests/vectors (see the SOURCE.md beside each file). Both keep
/// only what XKS uses: AES-256, 96-bit IV, 128-bit tag.
/// </summary>
internal static class GcmVectors
{
    /// <summary>Wycheproof aes_gcm_test.json, groups with keySize 256, ivSize 96, tagSize 128.</summary>
    public static IReadOnlyList<GcmCase> Wycheproof()
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(TestData.PathOf("wycheproof", "aes_gcm_test.json")));
        var cases = new List<GcmCase>();
        foreach (var group in document.RootElement.GetProperty("testGroups").EnumerateArray())
        {
            if (group.GetProperty("keySize").GetInt32() != 256
                || group.GetProperty("ivSize").GetInt32() != 96
                || group.GetProperty("tagSize").GetInt32() != 128)
            {
                continue;
            }

            foreach (var test in group.GetProperty("tests").EnumerateArray())
            {
                var result = test.GetProperty("result").GetString();
                Assert.True(result is "valid" or "invalid", $"unexpected result '{result}'");
                cases.Add(new GcmCase(
                    $"wycheproof tcId {test.GetProperty("tcId").GetInt32()}",
                    Hex(test, "key"),
                    Hex(test, "iv"),
                    Hex(test, "aad"),
                    Hex(test, "msg"),
                    Hex(test, "ct"),
                    Hex(test, "tag"),
                    result == "valid"));
            }
        }

        return cases;
    }

    /// <summary>A NIST CAVP GCMVS .rsp file, sections with Keylen 256, IVlen 96, Taglen 128. In the
    /// decrypt file a case without "PT =" but with a bare "FAIL" line must fail.</summary>
    public static IReadOnlyList<GcmCase> Nist(string fileName)
    {
        var lines = File.ReadAllLines(TestData.PathOf("nist-gcm", fileName)); // handles the CRLF line ends
        var parameters = new Dictionary<string, int>(StringComparer.Ordinal);
        var cases = new List<GcmCase>();
        Dictionary<string, string>? current = null;
        var fail = false;

        void Flush()
        {
            if (current is not null
                && parameters.GetValueOrDefault("Keylen") == 256
                && parameters.GetValueOrDefault("IVlen") == 96
                && parameters.GetValueOrDefault("Taglen") == 128)
            {
                Assert.True(fail || current.ContainsKey("PT"), $"{fileName} Count {current["Count"]}: neither PT nor FAIL");
                cases.Add(new GcmCase(
                    $"{fileName} Keylen=256 PTlen={parameters["PTlen"]} AADlen={parameters["AADlen"]} Count={current["Count"]}",
                    Convert.FromHexString(current["Key"]),
                    Convert.FromHexString(current["IV"]),
                    Convert.FromHexString(current["AAD"]),
                    fail ? [] : Convert.FromHexString(current["PT"]),
                    Convert.FromHexString(current["CT"]),
                    Convert.FromHexString(current["Tag"]),
                    !fail));
            }

            current = null;
            fail = false;
        }

        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (line.StartsWith('['))
            {
                Flush();
                var inner = line[1..^1].Split('=', 2, StringSplitOptions.TrimEntries);
                parameters[inner[0]] = int.Parse(inner[1], System.Globalization.CultureInfo.InvariantCulture);
                continue;
            }

            if (line == "FAIL")
            {
                fail = true;
                continue;
            }

            var pair = line.Split('=', 2, StringSplitOptions.TrimEntries);
            Assert.Equal(2, pair.Length);
            if (pair[0] == "Count")
            {
                Flush();
                current = new Dictionary<string, string>(StringComparer.Ordinal);
            }

            Assert.NotNull(current);
            current[pair[0]] = pair[1];
        }

        Flush();
        return cases;
    }

    private static byte[] Hex(JsonElement test, string name) => Convert.FromHexString(test.GetProperty(name).GetString()!);
}
