using System.Security.Cryptography;
using System.Text.Json;
using Coffer.Testing;

namespace Coffer.Server.Tests.SigV4;

/// <summary>
/// Wycheproof HMAC-SHA256 vectors through the primitive SigV4 uses. Coffer calls
/// <see cref="HMACSHA256.HashData(ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/> directly
/// (no wrapper of its own), so this mostly pins the platform (OpenSSL on Linux); it is kept because
/// SigV4 feeds it keys of every length ("AWS4" + secret may exceed the 64-byte block) and it is cheap.
/// </summary>
public sealed class WycheproofHmacTests
{
    [Fact]
    public void Every_Wycheproof_HMAC_SHA256_vector_gives_its_expected_result()
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(TestData.PathOf("wycheproof", "hmac_sha256_test.json")));
        var root = document.RootElement;
        var run = 0;
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        foreach (var group in root.GetProperty("testGroups").EnumerateArray())
        {
            var tagBytes = group.GetProperty("tagSize").GetInt32() / 8;
            foreach (var test in group.GetProperty("tests").EnumerateArray())
            {
                var key = Convert.FromHexString(test.GetProperty("key").GetString()!);
                var message = Convert.FromHexString(test.GetProperty("msg").GetString()!);
                var tag = Convert.FromHexString(test.GetProperty("tag").GetString()!);
                HMACSHA256.HashData(key, message, mac);
                var matches = tag.Length == tagBytes && CryptographicOperations.FixedTimeEquals(mac[..tagBytes], tag);
                var expectedValid = test.GetProperty("result").GetString() == "valid";
                Assert.True(matches == expectedValid, $"tcId {test.GetProperty("tcId").GetInt32()}");
                run++;
            }
        }

        Assert.Equal(root.GetProperty("numberOfTests").GetInt32(), run);
    }
}
