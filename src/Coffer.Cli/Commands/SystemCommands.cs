using System.CommandLine;
using Coffer.Cli.Client;
using Coffer.Cli.Output;
using Coffer.Server.Management;

namespace Coffer.Cli.Commands;

/// <summary><c>coffer status|init|unseal|seal</c>: the seal's lifecycle through /api/v1/sys (docs/design.md, "Key
/// hierarchy"); <c>coffer whoami</c>: the caller as the server sees it.</summary>
internal static class SystemCommands
{
    public static void AddTo(RootCommand root) => AddTo(root, CliEnvironment.ForProcess(Console.Out, Console.Error));

    public static void AddTo(RootCommand root, CliEnvironment env)
    {
        root.Subcommands.Add(Status(env));
        root.Subcommands.Add(Init(env));
        root.Subcommands.Add(Unseal(env));
        root.Subcommands.Add(Seal(env));
        root.Subcommands.Add(WhoAmI(env));
    }

    private static Command WhoAmI(CliEnvironment env)
    {
        var command = new Command("whoami", "Show who the token stands for: its id, kind, name, roles with the key stores they hold on, groups and token id.");
        command.SetClientAction(env, async (call, ct) =>
        {
            call.Print(await call.Api.GetAsync(ManagementClient.Route("sys", "whoami"), ManagementJson.Default.WhoAmIView, ct), Views.WhoAmI);
            return 0;
        });
        return command;
    }

    private static Command Status(CliEnvironment env)
    {
        var command = new Command("status", "Show whether Coffer is initialised and sealed, the unseal progress and the version (no token needed).");
        command.SetClientAction(env, async (call, ct) =>
        {
            var status = await call.Api.GetAsync(ManagementClient.Route("sys", "status"), ManagementJson.Default.SealStatusView, ct);
            Print(call, status);
            return 0;
        }, needsToken: false);
        return command;
    }

    private static Command Init(CliEnvironment env)
    {
        var shares = new Option<int?>("--shares") { Description = "Number of Shamir shares to split the master key into (1-255; shamir seal)", CustomParser = WholeNumber.Int32 };
        var threshold = new Option<int?>("--threshold") { Description = "Shares needed to unseal (1 to --shares; shamir seal)", CustomParser = WholeNumber.Int32 };
        var sealKind = new Option<string>("--seal") { Description = "shamir (shares held by people) or pkcs11 (master key encrypted by a key in the server's HSM); must match the server's configuration", DefaultValueFactory = _ => "shamir" };
        sealKind.AcceptOnlyFromAmong("shamir", "pkcs11");
        var pgpKeys = MasterKeyCommands.PgpKeysOption();
        var command = new Command("init", "Initialise a new installation: create the master key (split into Shamir shares, or protected by the HSM) and the root token. Prints them once.")
        {
            shares, threshold, sealKind, pgpKeys,
        };
        command.SetClientAction(env, async (call, ct) =>
        {
            var kind = call.Parse.GetValue(sealKind)!;
            if (kind == "shamir" && (call.Parse.GetValue(shares) is null || call.Parse.GetValue(threshold) is null))
            {
                throw new CliException("the shamir seal needs --shares N and --threshold M.", CliException.Usage);
            }

            var holders = await MasterKeyCommands.ReadPgpKeysAsync(call.Parse.GetValue(pgpKeys), env, ct);
            var result = await call.Api.PostAsync(ManagementClient.Route("sys", "init"),
                new InitRequest(call.Parse.GetValue(shares) ?? 0, call.Parse.GetValue(threshold) ?? 0, kind, holders), ManagementJson.Default.InitRequest, ManagementJson.Default.InitResponse, ct);
            var init = result.Value;
            if (kind == "pkcs11")
            {
                if (call.Json)
                {
                    Json.Write(call.Out, result.Json);
                    return 0;
                }

                await call.Out.WriteLineAsync("Coffer is initialised with the pkcs11 seal: the master key is encrypted by a key in the HSM, and Coffer is unsealed.");
                await call.Out.WriteLineAsync($"Root token:     {init.RootToken}");
                await call.Out.WriteLineAsync($"WARNING: the root token is shown only now. Keep it in {ClientSettings.TokenVariable}, not on command lines.");
                return 0;
            }

            var warning = $"WARNING: the {init.Shares.Count} unseal shares and the root token are shown only now; Coffer keeps none of them. "
                + $"Give each share to a different person and store them apart: anyone holding {init.Threshold} shares can unseal Coffer, "
                + $"and with fewer than {init.Threshold} nobody can, ever.";
            if (call.Json)
            {
                Json.Write(call.Out, result.Json);
                await call.Error.WriteLineAsync(warning);
                return 0;
            }

            await call.Out.WriteLineAsync($"Coffer is initialised with the Shamir seal: {init.Shares.Count} shares, any {init.Threshold} of which unseal it.");
            await call.Out.WriteLineAsync();
            await MasterKeyCommands.PrintSharesAsync(call.Out, init.Shares, init.PgpFingerprints);

            await call.Out.WriteLineAsync($"Root token:     {init.RootToken}");
            await call.Out.WriteLineAsync();
            await call.Out.WriteLineAsync(warning);
            await call.Out.WriteLineAsync($"Coffer is sealed: run `coffer unseal` once per share, with {init.Threshold} different shares. "
                + $"Keep the root token in {ClientSettings.TokenVariable}, not on command lines.");
            return 0;
        }, needsToken: false);
        return command;
    }

    private static Command Unseal(CliEnvironment env)
    {
        var share = new Argument<string?>("share")
        {
            Description = "One unseal share. Leave it out to type it without echo (or pipe it on stdin), which keeps it out of shell history",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var reset = new Option<bool>("--reset") { Description = "Discard the shares submitted so far" };
        var command = new Command("unseal", "Submit one Shamir share; Coffer unseals when the threshold is reached. The dev and pkcs11 seals take no share: they unseal from their key file or the HSM (no token needed).") { share, reset };
        command.SetClientAction(env, async (call, ct) =>
        {
            UnsealRequest request;
            if (call.Parse.GetValue(reset))
            {
                request = new UnsealRequest(null, Reset: true);
            }
            else if (call.Parse.GetValue(share) is null && await TakesNoShareAsync(call, ct))
            {
                // The dev and pkcs11 seals unseal from their key file or the HSM; a share would be refused.
                request = new UnsealRequest(null, Reset: false);
            }
            else
            {
                var value = call.Parse.GetValue(share) ?? env.ReadSecret("Unseal share (input is hidden): ");
                if (string.IsNullOrWhiteSpace(value))
                {
                    throw new CliException("no share given: type or pipe one share, e.g. `coffer unseal < share-1.txt`.", CliException.Usage);
                }

                request = new UnsealRequest(value.Trim(), Reset: false);
            }

            var status = await call.Api.PostAsync(ManagementClient.Route("sys", "unseal"), request, ManagementJson.Default.UnsealRequest, ManagementJson.Default.SealStatusView, ct);
            Print(call, status);
            if (!call.Json)
            {
                var s = status.Value;
                await call.Out.WriteLineAsync(!s.Sealed
                    ? "Coffer is unsealed."
                    : $"Coffer is still sealed: {s.Progress} of {s.Threshold} shares given; run `coffer unseal` with another share.");
            }

            return 0;
        }, needsToken: false);
        return command;
    }

    private static async Task<bool> TakesNoShareAsync(ClientCall call, CancellationToken ct)
    {
        var status = await call.Api.GetAsync(ManagementClient.Route("sys", "status"), ManagementJson.Default.SealStatusView, ct);
        return Coffer.Server.Seal.SelfUnseal.Handles(status.Value.SealKind);
    }

    private static Command Seal(CliEnvironment env)
    {
        var command = new Command("seal", "Seal Coffer: drop every key from memory at once. XKS calls fail until it is unsealed.");
        command.SetClientAction(env, async (call, ct) =>
        {
            var status = await call.Api.PostAsync(ManagementClient.Route("sys", "seal"), ManagementJson.Default.SealStatusView, ct);
            Print(call, status);
            if (!call.Json)
            {
                await call.Out.WriteLineAsync("Coffer is sealed.");
            }

            return 0;
        });
        return command;
    }

    private static void Print(ClientCall call, ApiResult<SealStatusView> status)
    {
        call.Print(status, (w, v) => Views.Status(w, v, call.Api.Address));
    }
}
