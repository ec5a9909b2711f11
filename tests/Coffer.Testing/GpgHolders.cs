namespace Coffer.Testing;

/// <summary>
/// Share holders with OpenPGP keys made by Debian's <c>gpg</c> in a private GNUPGHOME: the external
/// truth that a share Coffer encrypted opens with the holder's key and with no other.
/// </summary>
public sealed class GpgHolders : IDisposable
{
    private readonly string _home;

    private GpgHolders(string home, IReadOnlyList<string> publicKeyFiles)
    {
        _home = home;
        PublicKeyFiles = publicKeyFiles;
    }

    /// <summary>Holder i's armored public key file (<c>gpg --armor --export</c>).</summary>
    public IReadOnlyList<string> PublicKeyFiles { get; }

    /// <summary>Makes <paramref name="count"/> holders, each a key without passphrase: the odd ones gpg's
    /// default (RSA 3072 with an encryption subkey), the even ones Ed25519 with a Curve25519 encryption subkey.</summary>
    public static async Task<GpgHolders> CreateAsync(int count)
    {
        var home = Directory.CreateTempSubdirectory("coffer-gnupg-").FullName;
        var files = new List<string>();
        for (var i = 1; i <= count; i++)
        {
            var uid = $"Holder {i} <holder{i}@coffer.test>";
            if (i % 2 == 1)
            {
                await RunAsync(home, "--quick-generate-key", uid, "default", "default", "never");
            }
            else
            {
                await RunAsync(home, "--quick-generate-key", uid, "ed25519", "cert", "never");
                await RunAsync(home, "--quick-add-key", await FingerprintAsync(home, $"holder{i}@coffer.test"), "cv25519", "encr", "never");
            }

            var file = Path.Combine(home, $"holder{i}.asc");
            await RunAsync(home, "--armor", "--output", file, "--export", $"holder{i}@coffer.test");
            files.Add(file);
        }

        return new GpgHolders(home, files);
    }

    /// <summary>What <c>gpg --decrypt</c> makes of an armored message (with every holder's secret key at hand).</summary>
    public async Task<string> DecryptAsync(string armored)
    {
        var input = Path.Combine(_home, Guid.NewGuid().ToString("N") + ".asc");
        await File.WriteAllTextAsync(input, armored);
        return await RunAsync(_home, "--decrypt", input);
    }

    /// <summary>A key that may only sign and certify: no share can be encrypted to it.</summary>
    public async Task<string> CreateSignOnlyKeyFileAsync()
    {
        await RunAsync(_home, "--quick-generate-key", "Signer <signer@coffer.test>", "ed25519", "sign", "never");
        var file = Path.Combine(_home, "signer.asc");
        await RunAsync(_home, "--armor", "--output", file, "--export", "signer@coffer.test");
        return file;
    }

    private static async Task<string> FingerprintAsync(string home, string email) =>
        (await RunAsync(home, "--with-colons", "--list-keys", email))
            .Split('\n').First(l => l.StartsWith("fpr:", StringComparison.Ordinal)).Split(':')[9];

    private static async Task<string> RunAsync(string home, params string[] arguments)
    {
        var output = await ExternalTool.RunAsync("gpg", ["--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", "", .. arguments],
            environment: new Dictionary<string, string?> { ["GNUPGHOME"] = home });
        return output.ExitCode == 0 ? output.StandardOutput : throw new InvalidOperationException($"gpg {string.Join(' ', arguments)} failed: {output}");
    }

    public void Dispose()
    {
        // gpg-agent was started for this home; it exits when its socket directory goes away.
        try
        {
            ExternalTool.RunAsync("gpgconf", ["--kill", "gpg-agent"], environment: new Dictionary<string, string?> { ["GNUPGHOME"] = _home }).GetAwaiter().GetResult();
            Directory.Delete(_home, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
