using System.CommandLine;
using System.Globalization;
using Coffer.Cli.Client;
using Coffer.Cli.Output;
using Coffer.Server.Management;

namespace Coffer.Cli.Commands;

/// <summary>
/// <c>coffer key rotation-policy set|show|clear</c> and <c>coffer keystore rotation-policy ...</c>: when
/// the server's scheduler rotates keys, and <c>coffer key version dates</c>: a version's
/// activation and expiry. The server checks the values; a refusal prints its reason.
/// </summary>
internal static class RotationPolicyCommands
{
    public static Command ForKey(CliEnvironment env) => Group(env, "keys", KeyCommands.KeyArgument, Lookup.KeyIdAsync,
        "A key's rotation policy: its own replaces its key store's.");

    public static Command ForKeyStore(CliEnvironment env) => Group(env, "keystores", () => new Argument<string>("keystore") { Description = "Key store id or name" }, Lookup.KeyStoreIdAsync,
        "A key store's rotation policy: every key in it without a policy of its own follows it.");

    /// <summary><c>coffer key version dates ID VERSION [--activates-at T] [--deactivates-at T]</c>.</summary>
    public static Command Dates(CliEnvironment env)
    {
        var key = KeyCommands.KeyArgument();
        var version = KeyCommands.VersionArgument();
        var activates = TimeOption.Create("--activates-at", "When a PreActive version starts to work (ISO 8601, e.g. 2027-01-01T00:00:00Z); absent clears it");
        var deactivates = TimeOption.Create("--deactivates-at", "When the version expires and only decrypts (ISO 8601); absent clears it");
        var command = new Command("dates", "Set or clear a version's activation and expiry dates; both must be in the future.") { key, version, activates, deactivates };
        command.SetClientAction(env, async (call, ct) =>
        {
            var id = await Lookup.KeyIdAsync(call.Api, call.Parse.GetValue(key)!, ct);
            var route = ManagementClient.Route("keys", id, "versions", call.Parse.GetValue(version).ToString(CultureInfo.InvariantCulture), "dates");
            KeyCommands.Print(call, await call.Api.PutAsync(route,
                new VersionDatesRequest(call.Parse.GetValue(activates), call.Parse.GetValue(deactivates)),
                ManagementJson.Default.VersionDatesRequest, ManagementJson.Default.KeyView, ct));
            return 0;
        });
        return command;
    }

    private static Command Group(CliEnvironment env, string resource, Func<Argument<string>> targetArgument, Func<ManagementClient, string, CancellationToken, Task<string>> lookup, string description) =>
        new("rotation-policy", description) { Set(env, resource, targetArgument, lookup), Show(env, resource, targetArgument, lookup), Clear(env, resource, targetArgument, lookup) };

    private static Command Set(CliEnvironment env, string resource, Func<Argument<string>> targetArgument, Func<ManagementClient, string, CancellationToken, Task<string>> lookup)
    {
        var target = targetArgument();
        var interval = new Option<int?>("--interval-days") { Description = "Rotate every N days (N >= 1) after the last rotation", CustomParser = WholeNumber.Int32 };
        var at = new Option<string?>("--time") { Description = "Rotate daily at this UTC time, HH:mm (instead of --interval-days)" };
        var day = new Option<string?>("--day") { Description = "With --time: only on this weekday (Monday .. Sunday)" };
        var before = new Option<int?>("--before-expiry-days") { Description = "Also rotate this many days before the current version's expiry, so encryption never stops", CustomParser = WholeNumber.Int32 };
        var command = new Command("set", "Set the rotation policy; the server's scheduler rotates on it (missed rotations run once at start).")
        {
            target, interval, at, day, before,
        };
        command.SetClientAction(env, async (call, ct) =>
        {
            var id = await lookup(call.Api, call.Parse.GetValue(target)!, ct);
            var request = new RotationPolicyRequest(call.Parse.GetValue(interval), call.Parse.GetValue(at), call.Parse.GetValue(day), call.Parse.GetValue(before));
            call.Print(await call.Api.PutAsync(ManagementClient.Route(resource, id, "rotation-policy"), request,
                ManagementJson.Default.RotationPolicyRequest, ManagementJson.Default.RotationPolicyView, ct), Print);
            return 0;
        });
        return command;
    }

    private static Command Show(CliEnvironment env, string resource, Func<Argument<string>> targetArgument, Func<ManagementClient, string, CancellationToken, Task<string>> lookup)
    {
        var target = targetArgument();
        var command = new Command("show", "Show the rotation policy in force (for a key: its own or its key store's) and the next rotation.") { target };
        command.SetClientAction(env, async (call, ct) =>
        {
            var id = await lookup(call.Api, call.Parse.GetValue(target)!, ct);
            call.Print(await call.Api.GetAsync(ManagementClient.Route(resource, id, "rotation-policy"), ManagementJson.Default.RotationPolicyView, ct), Print);
            return 0;
        });
        return command;
    }

    private static Command Clear(CliEnvironment env, string resource, Func<Argument<string>> targetArgument, Func<ManagementClient, string, CancellationToken, Task<string>> lookup)
    {
        var target = targetArgument();
        var command = new Command("clear", "Remove the rotation policy.") { target };
        command.SetClientAction(env, async (call, ct) =>
        {
            var id = await lookup(call.Api, call.Parse.GetValue(target)!, ct);
            await call.Api.DeleteAsync(ManagementClient.Route(resource, id, "rotation-policy"), ct);
            if (!call.Json)
            {
                await call.Out.WriteLineAsync($"Cleared the rotation policy of {id}.");
            }

            return 0;
        });
        return command;
    }

    private static void Print(TextWriter w, RotationPolicyView p) => Table.Properties(w,
    [
        ("Policy", p.Description),
        ("Set on", p.Scope == "key" ? $"key {p.TargetId}" : $"key store {p.TargetId}"),
        ("Changed", Table.Time(p.UpdatedAt)),
        ("Changed by", p.UpdatedBy),
        ("Next rotation", Table.Time(p.NextRotationAt)),
        ("Last scheduled due time", Table.Time(p.LastDueAt)),
    ]);
}
