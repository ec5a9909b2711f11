using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary><c>coffer init --pgp-keys</c>: each share leaves Coffer only encrypted to its holder's
/// OpenPGP key, and Debian's gpg, not Coffer, is the judge that it opens (docs/master-key.md).</summary>
public sealed class EncryptedShareTests
{
    [Fact]
    public async Task Init_with_pgp_keys_shows_shares_only_encrypted_and_each_holder_opens_theirs_with_gpg()
    {
        using var holders = await GpgHolders.CreateAsync(3);
        await using var node = await SealedNode.StartAsync();
        var env = Cli.Environment(node.AdminUrl, null);

        var table = await Cli.RunAsync(env, "init", "--shares", "3", "--threshold", "2", "--pgp-keys", string.Join(',', holders.PublicKeyFiles));

        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Equal(3, CountOf("-----BEGIN PGP MESSAGE-----", table.Out));
        Assert.DoesNotContain(Coffer.Crypto.Shamir.SharePrefix, table.Out + table.Error, StringComparison.Ordinal);
        Assert.Matches(@"Unseal share 2, encrypted to OpenPGP key [0-9A-F]{40}", table.Out);

        var messages = System.Text.RegularExpressions.Regex.Matches(table.Out, "-----BEGIN PGP MESSAGE-----.*?-----END PGP MESSAGE-----", System.Text.RegularExpressions.RegexOptions.Singleline)
            .Select(m => m.Value).ToArray();
        var shares = new List<string>();
        foreach (var message in messages)
        {
            shares.Add((await holders.DecryptAsync(message)).Trim());
        }

        Assert.All(shares, s => Assert.StartsWith(Coffer.Crypto.Shamir.SharePrefix, s, StringComparison.Ordinal));
        Assert.Equal(3, shares.Distinct().Count());

        Assert.Equal(0, (await Cli.RunAsync(env, "unseal", shares[2])).ExitCode);
        var unsealed = await Cli.RunAsync(Cli.Environment(node.AdminUrl, null, stdin: shares[1] + "\n"), "unseal");
        Assert.True(unsealed.ExitCode == 0, unsealed.ToString());
        Assert.False(node.Server.IsSealed);
        foreach (var share in shares)
        {
            Assert.DoesNotContain(share, node.Logs.All, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Init_json_answers_armored_messages_with_the_fingerprint_each_went_to()
    {
        using var holders = await GpgHolders.CreateAsync(2);
        await using var node = await SealedNode.StartAsync();

        var init = await Cli.RunAsync(Cli.Environment(node.AdminUrl, null), "init", "--shares", "2", "--threshold", "2", "--pgp-keys", string.Join(',', holders.PublicKeyFiles), "--json");

        Assert.True(init.ExitCode == 0, init.ToString());
        var shares = init.Json.GetProperty("shares").EnumerateArray().Select(s => s.GetString()!).ToArray();
        var fingerprints = init.Json.GetProperty("pgpFingerprints").EnumerateArray().Select(s => s.GetString()!).ToArray();
        Assert.Equal(2, fingerprints.Distinct().Count());
        Assert.All(shares, s => Assert.StartsWith("-----BEGIN PGP MESSAGE-----", s, StringComparison.Ordinal));
        Assert.StartsWith(Coffer.Crypto.Shamir.SharePrefix, await holders.DecryptAsync(shares[1]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_with_fewer_keys_than_shares_is_refused_and_initialises_nothing()
    {
        using var holders = await GpgHolders.CreateAsync(1);
        await using var node = await SealedNode.StartAsync();
        var env = Cli.Environment(node.AdminUrl, null);

        var init = await Cli.RunAsync(env, "init", "--shares", "2", "--threshold", "1", "--pgp-keys", holders.PublicKeyFiles[0]);

        Assert.Equal(1, init.ExitCode);
        Assert.Contains("one public key per share: 2 shares, 1 keys", init.Error, StringComparison.Ordinal);
        Assert.False((await Cli.RunAsync(env, "status", "--json")).Json.GetProperty("initialized").GetBoolean());
    }

    [Fact]
    public async Task Init_with_a_key_that_cannot_encrypt_or_is_no_key_is_refused_naming_it()
    {
        using var holders = await GpgHolders.CreateAsync(1);
        var signOnly = await holders.CreateSignOnlyKeyFileAsync();
        var notAKey = Path.Combine(Path.GetDirectoryName(signOnly)!, "not-a-key.asc");
        await File.WriteAllTextAsync(notAKey, "hello");
        await using var node = await SealedNode.StartAsync();
        var env = Cli.Environment(node.AdminUrl, null);

        var signing = await Cli.RunAsync(env, "init", "--shares", "2", "--threshold", "1", "--pgp-keys", holders.PublicKeyFiles[0] + "," + signOnly);
        var garbage = await Cli.RunAsync(env, "init", "--shares", "2", "--threshold", "1", "--pgp-keys", notAKey + "," + holders.PublicKeyFiles[0]);
        var twice = await Cli.RunAsync(env, "init", "--shares", "2", "--threshold", "1", "--pgp-keys", holders.PublicKeyFiles[0] + "," + holders.PublicKeyFiles[0]);
        var missing = await Cli.RunAsync(env, "init", "--shares", "1", "--threshold", "1", "--pgp-keys", "/nonexistent/holder.asc");

        Assert.Equal(1, signing.ExitCode);
        Assert.Contains("pgpKeys[1] has no key that may encrypt", signing.Error, StringComparison.Ordinal);
        Assert.Equal(1, garbage.ExitCode);
        Assert.Contains("pgpKeys[0] is not an OpenPGP public key", garbage.Error, StringComparison.Ordinal);
        Assert.Equal(1, twice.ExitCode);
        Assert.Contains("pgpKeys[1] is the same key", twice.Error, StringComparison.Ordinal);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("/nonexistent/holder.asc", missing.Error, StringComparison.Ordinal);
        Assert.False((await Cli.RunAsync(env, "status", "--json")).Json.GetProperty("initialized").GetBoolean());
    }

    private static int CountOf(string needle, string haystack) =>
        (haystack.Length - haystack.Replace(needle, string.Empty, StringComparison.Ordinal).Length) / needle.Length;
}
