using System.CommandLine;
using Coffer.Cli.Client;
using Coffer.Server.Management;

namespace Coffer.Cli.Commands;

/// <summary>The master key's operator commands (<c>coffer resplit</c>) and what they share with
/// <c>coffer init</c>: shares encrypted to their holders' OpenPGP keys (docs/master-key.md).</summary>
internal static class MasterKeyCommands
{
    public static void AddTo(RootCommand root, CliEnvironment env)
    {
        var resplit = new Command("resplit", "Re-split the master key's seal, keeping the master key: new unseal shares from a quorum of the current ones (the old shares then open nothing), or a move between the shamir and pkcs11 seals.");
        resplit.Subcommands.Add(ResplitStart(env));
        resplit.Subcommands.Add(ResplitShare(env));
        resplit.Subcommands.Add(ResplitStatus(env));
        resplit.Subcommands.Add(ResplitCancel(env));
        root.Subcommands.Add(resplit);
    }

    private static Command ResplitStart(CliEnvironment env)
    {
        var shares = new Option<int?>("--shares") { Description = "Number of new shares (1-255)", CustomParser = WholeNumber.Int32 };
        var threshold = new Option<int?>("--threshold") { Description = "New shares needed to unseal (1 to --shares)", CustomParser = WholeNumber.Int32 };
        var pgpKeys = PgpKeysOption();
        var seal = new Option<string>("--seal")
        {
            Description = "shamir (new shares; from the pkcs11 seal, a move out of the HSM) or pkcs11 (the master key moves into the HSM seal, with the current holders' consent)",
            DefaultValueFactory = _ => "shamir",
        };
        seal.AcceptOnlyFromAmong("shamir", "pkcs11");
        var command = new Command("start", "Start a re-split; prints the nonce each holder of a current share gives with `coffer resplit share`. From the pkcs11 seal it finishes at once.")
        {
            shares, threshold, pgpKeys, seal,
        };
        command.SetClientAction(env, async (call, ct) =>
        {
            var kind = call.Parse.GetValue(seal)!;
            if (kind == "shamir" && (call.Parse.GetValue(shares) is null || call.Parse.GetValue(threshold) is null))
            {
                throw new CliException("new shares need --shares N and --threshold M.", CliException.Usage);
            }

            var holders = await ReadPgpKeysAsync(call.Parse.GetValue(pgpKeys), env, ct);
            var result = await call.Api.PostAsync(ManagementClient.Route("sys", "resplit"),
                new ResplitRequest(call.Parse.GetValue(shares) ?? 0, call.Parse.GetValue(threshold) ?? 0, holders, kind), ManagementJson.Default.ResplitRequest, ManagementJson.Default.ResplitView, ct);
            await PrintAsync(call, result);
            return 0;
        });
        return command;
    }

    private static Command ResplitShare(CliEnvironment env)
    {
        var nonce = new Option<string>("--nonce") { Description = "The re-split's nonce, as `coffer resplit start` or `status` printed it", Required = true };
        var share = new Argument<string?>("share")
        {
            Description = "One current unseal share. Leave it out to type it without echo (or pipe it on stdin), which keeps it out of shell history",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("share", "Give one current share to the re-split in progress; the share that completes the quorum is answered the new shares (no token needed).") { nonce, share };
        command.SetClientAction(env, async (call, ct) =>
        {
            var value = call.Parse.GetValue(share) ?? env.ReadSecret("Current unseal share (input is hidden): ");
            if (string.IsNullOrWhiteSpace(value))
            {
                throw new CliException("no share given: type or pipe one share, e.g. `coffer resplit share --nonce N < share-1.txt`.", CliException.Usage);
            }

            var result = await call.Api.PostAsync(ManagementClient.Route("sys", "resplit", "share"),
                new ResplitShareRequest(call.Parse.GetValue(nonce)!, value.Trim()), ManagementJson.Default.ResplitShareRequest, ManagementJson.Default.ResplitView, ct);
            await PrintAsync(call, result);
            return 0;
        }, needsToken: false);
        return command;
    }

    private static Command ResplitStatus(CliEnvironment env)
    {
        var command = new Command("status", "Show the re-split in progress: its nonce, new shares and threshold, and how many current shares were given (no token needed).");
        command.SetClientAction(env, async (call, ct) =>
        {
            await PrintAsync(call, await call.Api.GetAsync(ManagementClient.Route("sys", "resplit"), ManagementJson.Default.ResplitView, ct));
            return 0;
        }, needsToken: false);
        return command;
    }

    private static Command ResplitCancel(CliEnvironment env)
    {
        var command = new Command("cancel", "Cancel the re-split in progress and discard the shares given to it.");
        command.SetClientAction(env, async (call, ct) =>
        {
            await PrintAsync(call, await call.Api.DeleteAsync(ManagementClient.Route("sys", "resplit"), ManagementJson.Default.ResplitView, ct));
            return 0;
        });
        return command;
    }

    private static async Task PrintAsync(ClientCall call, ApiResult<ResplitView> result)
    {
        var view = result.Value;
        if (call.Json)
        {
            Output.Json.Write(call.Out, result.Json);
            if (view.Warning is not null)
            {
                await call.Error.WriteLineAsync("WARNING: " + view.Warning);
            }

            return;
        }

        if (!view.InProgress && view.Seal is not null)
        {
            if (view.Rekey is { } rekey)
            {
                await call.Out.WriteLineAsync(RekeyCommands.Describe(rekey));
            }

            if (view.NewShares is { } shares)
            {
                await call.Out.WriteLineAsync($"The master key was {(view.Rekey is null ? "re-split" : "replaced")}: {shares.Count} new shares, any {view.Threshold} of which unseal Coffer. The old seal no longer unseals it.");
                await call.Out.WriteLineAsync();
                await PrintSharesAsync(call.Out, shares, view.PgpFingerprints);
                await call.Out.WriteLineAsync("WARNING: the new shares are shown only now; Coffer keeps none of them. Give each to a different person.");
            }
            else
            {
                await call.Out.WriteLineAsync($"The master key is now kept by the {view.Seal} seal. The old shares no longer unseal Coffer.");
            }

            if (view.Warning is not null)
            {
                await call.Out.WriteLineAsync("WARNING: " + view.Warning);
            }

            return;
        }

        await call.Out.WriteLineAsync(view.InProgress
            ? $"{(view.Rekey is null ? "Re-split" : "Rekey (a re-split that makes a new master key)")} {view.Nonce} in progress: into {(view.Seal == "pkcs11" ? "the pkcs11 seal" : $"{view.Shares} shares, threshold {view.Threshold}")}{(view.PgpFingerprints is null ? "" : ", each encrypted to an OpenPGP key")}; "
                + $"{view.Progress} of {view.Required} current shares given. Each holder runs `coffer resplit share --nonce {view.Nonce}`."
            : "No re-split is in progress.");
    }

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
