using System.CommandLine;
using Coffer.Cli.Client;
using Coffer.Cli.Output;
using Coffer.Server.Management;

namespace Coffer.Cli.Commands;

/// <summary>
/// <c>coffer key schedule-destruction</c>, <c>cancel-destruction</c> and <c>rotate-many</c>:
/// destroying a whole key after a waiting period, and rotating every key a filter selects.
/// </summary>
internal static class KeyDestructionCommands
{
    public static Command ScheduleDestruction(CliEnvironment env)
    {
        var key = KeyCommands.KeyArgument();
        var days = WaitingDaysOption();
        var command = new Command("schedule-destruction",
            "Schedule destruction of the whole key: it serves AWS KMS nothing from now on, and when the waiting period ends every version's material is destroyed for good.") { key, days };
        command.SetClientAction(env, async (call, ct) =>
        {
            var id = await Lookup.KeyIdAsync(call.Api, call.Parse.GetValue(key)!, ct);
            KeyCommands.Print(call, await call.Api.PostAsync(ManagementClient.Route("keys", id, "schedule-destruction"),
                new ScheduleDestructionRequest(call.Parse.GetValue(days)), ManagementJson.Default.ScheduleDestructionRequest, ManagementJson.Default.KeyView, ct));
            return 0;
        });
        return command;
    }

    public static Command CancelDestruction(CliEnvironment env)
    {
        var key = KeyCommands.KeyArgument();
        var command = new Command("cancel-destruction", "Cancel the key's scheduled destruction during its waiting period: it works as before.") { key };
        command.SetClientAction(env, async (call, ct) =>
        {
            var id = await Lookup.KeyIdAsync(call.Api, call.Parse.GetValue(key)!, ct);
            KeyCommands.Print(call, await call.Api.PostAsync(ManagementClient.Route("keys", id, "cancel-destruction"), ManagementJson.Default.KeyView, ct));
            return 0;
        });
        return command;
    }

    public static Command RotateMany(CliEnvironment env)
    {
        var store = new Option<string?>("--keystore") { Description = "Keys of this key store (id or name)" };
        var tag = new Option<string?>("--tag") { Description = "Keys with this tag: key (any value) or key=value" };
        var keys = new Option<string[]>("--key") { Description = "This key (id or name); repeat for more", AllowMultipleArgumentsPerToken = false };
        var prefix = new Option<string?>("--name-prefix") { Description = "Keys whose name (externalKeyId) starts with this" };
        var all = new Option<bool>("--all") { Description = "Every key (instead of the filters)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "List what would rotate and change nothing" };
        var command = new Command("rotate-many",
            "Rotate every key a filter selects (all filters given must match), each as its own audited change; --dry-run lists them first.") { store, tag, keys, prefix, all, dryRun };
        command.SetClientAction(env, async (call, ct) =>
        {
            var storeId = call.Parse.GetValue(store) is { } storeValue ? await Lookup.KeyStoreIdAsync(call.Api, storeValue, ct) : null;
            List<string>? keyIds = null;
            foreach (var value in call.Parse.GetValue(keys) ?? [])
            {
                (keyIds ??= []).Add(await Lookup.KeyIdAsync(call.Api, value, ct));
            }

            var request = new BulkRotateRequest(storeId, call.Parse.GetValue(tag), keyIds, call.Parse.GetValue(prefix), call.Parse.GetValue(all), call.Parse.GetValue(dryRun));
            var result = await call.Api.PostAsync(ManagementClient.Route("keys", "rotate"), request,
                ManagementJson.Default.BulkRotateRequest, ManagementJson.Default.BulkRotateView, ct);
            call.Print(result, Views.BulkRotation);
            // A partial failure is a failure for scripts; the table says which keys to retry.
            return result.Value.Failed > 0 ? 1 : 0;
        });
        return command;
    }

    internal static Option<int?> WaitingDaysOption() => new("--waiting-days")
    {
        Description = "Days before the material is destroyed, 7 to 30 (default 30); cancel-destruction works until then",
        CustomParser = WholeNumber.Int32From(7, 30),
    };
}
