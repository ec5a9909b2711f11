using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Coffer.Cli.Client;
using Coffer.Cli.Output;
using Coffer.Server.Management;

namespace Coffer.Cli.Commands;

/// <summary>
/// <c>coffer key rotate</c>, <c>coffer key version ...</c> and <c>coffer key compromised-may-decrypt</c>:
/// the key lifecycle. The server decides what is legal; a refused move prints its reason.
/// </summary>
internal static class KeyLifecycleCommands
{
    public static Command Rotate(CliEnvironment env)
    {
        var key = KeyCommands.KeyArgument();
        var expect = new Option<int?>("--expect-version")
        {
            Description = "Rotate only if this is still the current version (fails if someone rotated first)",
            CustomParser = WholeNumber.Int32,
        };
        var activatesAt = TimeOption.Create("--activates-at", "When the new version takes over (ISO 8601, in the future): it is PreActive until then and the current version encrypts until then");
        var command = new Command("rotate", "Rotate a key: a new version encrypts (now, or from --activates-at); earlier versions still decrypt.") { key, expect, activatesAt };
        command.SetClientAction(env, async (call, ct) =>
        {
            var id = await Lookup.KeyIdAsync(call.Api, call.Parse.GetValue(key)!, ct);
            KeyCommands.Print(call, await call.Api.PostAsync(ManagementClient.Route("keys", id, "rotate"),
                new RotateKeyRequest(call.Parse.GetValue(expect), call.Parse.GetValue(activatesAt)), ManagementJson.Default.RotateKeyRequest, ManagementJson.Default.KeyView, ct));
            return 0;
        });
        return command;
    }

    public static Command Version(CliEnvironment env) => new("version", "A key's versions: list them and change their state.")
    {
        List(env),
        Transition(env, "activate", "Activate a PreActive version now (before its activation time); the version it takes over from stops encrypting."),
        Transition(env, "deactivate", "Deactivate (revoke) an Active version: it only decrypts from now on."),
        Transition(env, "compromise", "Mark a version Compromised: it never encrypts again, decrypts only if the key allows it; the current version's key rotates."),
        ScheduleDestruction(env),
        Transition(env, "cancel-destruction", "Cancel a scheduled destruction: the version works as before."),
        RotationPolicyCommands.Dates(env),
    };

    public static Command CompromisedMayDecrypt(CliEnvironment env)
    {
        var key = KeyCommands.KeyArgument();
        var allowed = new Argument<bool>("allowed") { Description = "true: Compromised versions still decrypt; false (the default): they do not" };
        var command = new Command("compromised-may-decrypt", "Set whether the key's Compromised versions may still decrypt.") { key, allowed };
        command.SetClientAction(env, async (call, ct) =>
        {
            var id = await Lookup.KeyIdAsync(call.Api, call.Parse.GetValue(key)!, ct);
            KeyCommands.Print(call, await call.Api.PutAsync(ManagementClient.Route("keys", id, "compromised-may-decrypt"),
                new CompromisedMayDecryptRequest(call.Parse.GetValue(allowed)), ManagementJson.Default.CompromisedMayDecryptRequest, ManagementJson.Default.KeyView, ct));
            return 0;
        });
        return command;
    }

    private static Command List(CliEnvironment env)
    {
        var key = KeyCommands.KeyArgument();
        var command = new Command("list", "List a key's versions with their state, times and who changed them.") { key };
        command.SetClientAction(env, async (call, ct) =>
        {
            var id = await Lookup.KeyIdAsync(call.Api, call.Parse.GetValue(key)!, ct);
            var view = await call.Api.GetAsync(ManagementClient.Route("keys", id), ManagementJson.Default.KeyView, ct);
            if (call.Json)
            {
                // The versions as the API shows them inside the key.
                using var document = JsonDocument.Parse(view.Json);
                Json.Write(call.Out, document.RootElement.GetProperty("versions").GetRawText());
            }
            else
            {
                Views.Versions(call.Out, view.Value.CurrentVersion, view.Value.Versions ?? []);
            }

            return 0;
        });
        return command;
    }

    private static Command Transition(CliEnvironment env, string action, string description)
    {
        var (key, version) = Arguments();
        var command = new Command(action, description) { key, version };
        command.SetClientAction(env, async (call, ct) =>
        {
            var id = await Lookup.KeyIdAsync(call.Api, call.Parse.GetValue(key)!, ct);
            KeyCommands.Print(call, await call.Api.PostAsync(VersionRoute(id, call.Parse.GetValue(version), action), ManagementJson.Default.KeyView, ct));
            return 0;
        });
        return command;
    }

    private static Command ScheduleDestruction(CliEnvironment env)
    {
        var (key, version) = Arguments();
        var days = KeyDestructionCommands.WaitingDaysOption();
        var command = new Command("schedule-destruction", "Schedule destruction of a version that is not Active; it stops working at once.") { key, version, days };
        command.SetClientAction(env, async (call, ct) =>
        {
            var id = await Lookup.KeyIdAsync(call.Api, call.Parse.GetValue(key)!, ct);
            KeyCommands.Print(call, await call.Api.PostAsync(VersionRoute(id, call.Parse.GetValue(version), "schedule-destruction"),
                new ScheduleDestructionRequest(call.Parse.GetValue(days)), ManagementJson.Default.ScheduleDestructionRequest, ManagementJson.Default.KeyView, ct));
            return 0;
        });
        return command;
    }

    private static (Argument<string> Key, Argument<int> Version) Arguments() =>
        (KeyCommands.KeyArgument(), KeyCommands.VersionArgument());

    private static string VersionRoute(string keyId, int version, string action) =>
        ManagementClient.Route("keys", keyId, "versions", version.ToString(CultureInfo.InvariantCulture), action);
}
