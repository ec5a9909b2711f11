using System.Text.RegularExpressions;
using Coffer.Crypto;

namespace Coffer.Core.Tests.Crypto;

public sealed partial class CredentialGeneratorTests
{
    private const int Draws = 5000;

    [Fact]
    public void Access_key_ids_are_20_characters_of_RFC4648_base32_and_unique()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Draws; i++)
        {
            var id = CredentialGenerator.NewAccessKeyId();
            Assert.Matches(AccessKeyId(), id);
            Assert.True(seen.Add(id));
        }
    }

    [Fact]
    public void Access_key_ids_use_the_whole_alphabet()
    {
        var used = new HashSet<char>();
        for (var i = 0; i < 200; i++)
        {
            used.UnionWith(CredentialGenerator.NewAccessKeyId());
        }

        Assert.Equal(32, used.Count);
    }

    [Fact]
    public void Secret_access_keys_are_48_base64_characters_in_the_XKS_range_and_unique()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Draws; i++)
        {
            var secret = CredentialGenerator.NewSecretAccessKey();
            Assert.Equal(48, secret.Length);
            Assert.Matches(SecretAccessKey(), secret);
            Assert.Equal(36, Convert.FromBase64String(secret).Length);
            Assert.True(seen.Add(secret));
        }
    }

    [Fact]
    public void Api_tokens_are_coffer_prefix_and_unpadded_base64url_of_32_bytes_and_unique()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Draws; i++)
        {
            var token = CredentialGenerator.NewApiToken();
            Assert.Matches(ApiToken(), token);
            Assert.Equal(32, System.Buffers.Text.Base64Url.DecodeFromChars(token.AsSpan("coffer_".Length)).Length);
            Assert.True(seen.Add(token));
        }
    }

    [Fact]
    public void Ids_are_prefix_underscore_and_16_lowercase_base32_characters_and_unique()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Draws; i++)
        {
            var id = CredentialGenerator.NewId("key");
            Assert.Matches(Id(), id);
            Assert.True(seen.Add(id));
        }
    }

    [Fact]
    public void NewId_rejects_an_empty_prefix()
    {
        Assert.Throws<ArgumentException>(() => CredentialGenerator.NewId(string.Empty));
        Assert.Throws<ArgumentNullException>(() => CredentialGenerator.NewId(null!));
    }

    [GeneratedRegex("^[A-Z2-7]{20}$")]
    private static partial Regex AccessKeyId();

    [GeneratedRegex("^[A-Za-z0-9+/]{48}$")]
    private static partial Regex SecretAccessKey();

    [GeneratedRegex("^coffer_[A-Za-z0-9_-]{43}$")]
    private static partial Regex ApiToken();

    [GeneratedRegex("^key_[a-z2-7]{16}$")]
    private static partial Regex Id();
}
