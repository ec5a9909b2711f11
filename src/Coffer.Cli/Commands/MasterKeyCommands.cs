using System.CommandLine;
using Coffer.Cli.Client;

namespace Coffer.Cli.Commands;

/// <summary>The master key's operator commands and what they share with <c>coffer init</c>: shares
/// encrypted to their holders' OpenPGP keys (docs/master-key.md).</summary>
internal static class MasterKeyCommands
{
    /// <summary><c>--pgp-keys a.asc,b.asc,…</c>: one holder's public key file per share, in share order.</summary>
    public static Option<string?> PgpKeysOption() => new("--pgp-keys")
    {
        Description = "Comma-separated OpenPGP public key files (`gpg --armor --export`), one per share: share i is shown only encrypted to key i",
    };

    /// <summary>The files named by <paramref name="option"/>, read; null when it was not given.</summary>
    public static async Task<IReadOnlyList<string>?> ReadPgpKeysAsync(string? option, CliEnvironment env, CancellationToken ct)
    {
        if (option is null)
        {
            return null;
        }

        var files = option.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (files.Length == 0)
        {
            throw new CliException("--pgp-keys names no file.", CliException.Usage);
        }

        var keys = new List<string>(files.Length);
        foreach (var file in files)
        {
            try
            {
                keys.Add(await File.ReadAllTextAsync(Path.GetFullPath(file, env.WorkingDirectory), ct));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"cannot read the public key file {file}: {e.Message}", CliException.Usage);
            }
        }

        return keys;
    }

    /// <summary>Prints the shares, each headed by its number and, when encrypted, its holder's key.</summary>
    public static async Task PrintSharesAsync(TextWriter output, IReadOnlyList<string> shares, IReadOnlyList<string>? fingerprints)
    {
        for (var i = 0; i < shares.Count; i++)
        {
            if (fingerprints is null)
            {
                await output.WriteLineAsync($"Unseal share {i + 1}: {shares[i]}");
                continue;
            }

            await output.WriteLineAsync($"Unseal share {i + 1}, encrypted to OpenPGP key {fingerprints[i]} (decrypt it with `gpg --decrypt`):");
            await output.WriteLineAsync(shares[i].TrimEnd());
            await output.WriteLineAsync();
        }
    }
}
