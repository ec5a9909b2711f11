using System.CommandLine;
using Coffer.Cli.Client;
using Coffer.Server.Management;

namespace Coffer.Cli.Commands;

/// <summary><c>coffer rekey</c>: a new master key, and everything sealed under the old one sealed again
/// (docs/master-key.md, "coffer rekey").</summary>
internal static class RekeyCommands
{
    public static void AddTo(RootCommand root, CliEnvironment env)
    {
        var shares = new Option<int?>("--shares") { Description = "shamir seal: number of new shares (1-255)", CustomParser = WholeNumber.Int32 };
        var threshold = new Option<int?>("--threshold") { Description = "shamir seal: new shares needed to unseal (1 to --shares)", CustomParser = WholeNumber.Int32 };
        var pgpKeys = MasterKeyCommands.PgpKeysOption();
        var rekey = new Command("rekey",
            "Make a new master key and seal everything again under it, while XKS calls go on. The dev and pkcs11 seals rekey at once; the shamir seal "
            + "takes --shares and --threshold and prints a nonce, with which a quorum of the current holders each give a share (`coffer resplit share --nonce`). "
            + "Run it again to finish a rekey that stopped after its switch (no shares needed).")
        {
            shares, threshold, pgpKeys,
        };
        rekey.SetClientAction(env, async (call, ct) =>
        {
            var holders = await MasterKeyCommands.ReadPgpKeysAsync(call.Parse.GetValue(pgpKeys), env, ct);
            var result = await call.Api.PostAsync(ManagementClient.Route("sys", "rekey"),
                new RekeyRequest(call.Parse.GetValue(shares) ?? 0, call.Parse.GetValue(threshold) ?? 0, holders),
                ManagementJson.Default.RekeyRequest, ManagementJson.Default.RekeyView, ct);
            await PrintAsync(call, result);
            return 0;
        });

        var status = new Command("status", "Show where a rekey stands: none, awaiting shares, prepared, or switched (rows still to seal again: run `coffer rekey`).");
        status.SetClientAction(env, async (call, ct) =>
        {
            await PrintAsync(call, await call.Api.GetAsync(ManagementClient.Route("sys", "rekey"), ManagementJson.Default.RekeyView, ct));
            return 0;
        });
        rekey.Subcommands.Add(status);
        root.Subcommands.Add(rekey);
    }

    /// <summary>One line per state; the answer of a finished rekey says how much it sealed again.</summary>
    public static async Task PrintAsync(ClientCall call, ApiResult<RekeyView> result)
    {
        var view = result.Value;
        if (call.Json)
        {
            Output.Json.Write(call.Out, result.Json);
            return;
        }

        await call.Out.WriteLineAsync(Describe(view));
        if (view.Message is not null && view.Nonce is null)
        {
            await call.Out.WriteLineAsync("WARNING: " + view.Message);
        }
    }

    public static string Describe(RekeyView view) => view switch
    {
        { Done: true } => $"The master key was replaced{(view.Resumed ? " (an interrupted rekey finished)" : string.Empty)}: {view.Resealed} stored values sealed again under the new one; the old master key opens nothing stored.",
        { Nonce: { } nonce } => $"Rekey {nonce} awaiting shares: {view.Progress} of {view.Required} current shares given. Each holder runs `coffer resplit share --nonce {nonce}`.",
        { Phase: "switched" } => "A rekey is in force but not finished: some values are still sealed under the old master key. Run `coffer rekey` to finish it.",
        { Phase: "prepared" } => "A rekey was prepared but not switched: the old master key is still the one in force. Run `coffer rekey` again to carry it out.",
        _ => "No rekey is in progress.",
    };
}
