using System.CommandLine;
using Coffer.Cli.Client;
using Coffer.Cli.Output;
using Coffer.Keys;
using Coffer.Server.Management;

namespace Coffer.Cli.Commands;

/// <summary><c>coffer key ...</c>: the AES-256 keys AWS KMS uses through XKS. ID arguments take a key id or a key name.</summary>
internal static class KeyCommands
{
    public static void AddTo(RootCommand root) => AddTo(root, CliEnvironment.ForProcess(Console.Out, Console.Error));

    public static void AddTo(RootCommand root, CliEnvironment env)
    {
        var command = new Command("key", "Keys: AES-256 keys that AWS KMS encrypts and decrypts with through XKS.")
        {
            Create(env), List(env), Show(env), SetEnabled(env, enable: true), SetEnabled(env, enable: false),
            KeyLifecycleCommands.Rotate(env), KeyLifecycleCommands.Version(env), KeyLifecycleCommands.CompromisedMayDecrypt(env),
            KeyDestructionCommands.RotateMany(env), KeyDestructionCommands.ScheduleDestruction(env), KeyDestructionCommands.CancelDestruction(env),
            RotationPolicyCommands.ForKey(env),
        };
        root.Subcommands.Add(command);
    }

    private static Command Create(CliEnvironment env)
    {
        var store = new Argument<string>("keystore") { Description = "Key store id or name" };
        var name = new Option<string?>("--name") { Description = "The key's XKS externalKeyId, as entered in AWS KMS (default: the generated key id)" };
        var description = new Option<string?>("--description") { Description = "Free text, at most 1024 characters" };
        var tags = new Option<string[]>("--tag") { Description = "A tag as key=value; repeat for more", AllowMultipleArgumentsPerToken = false };
        tags.Validators.Add(result =>
        {
            foreach (var tag in result.GetValueOrDefault<string[]>() ?? [])
            {
                if (tag.IndexOf('=', StringComparison.Ordinal) < 1)
                {
                    result.AddError($"--tag takes key=value, not '{tag}'.");
                }
            }
        });
        var usage = new Option<string?>("--usage") { Description = "What AWS KMS may do with the key: ENCRYPT,DECRYPT (default), ENCRYPT, DECRYPT or NONE" };
        usage.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string?>();
            if (value is not null && (value.Trim().Length == 0 || !KeyUsageText.TryParse([value], out _)))
            {
                result.AddError($"--usage takes ENCRYPT,DECRYPT, ENCRYPT, DECRYPT or NONE, not '{value}'.");
            }
        });
        var hsmLabel = new Option<string?>("--hsm-label") { Description = "Adopt the existing HSM key with this label instead of generating one (pkcs11 key stores; non-extractable AES-256 keys only)" };
        var activatesAt = TimeOption.Create("--activates-at", "When the key starts to encrypt (ISO 8601, in the future); its first version is PreActive until then");
        var command = new Command("create", "Create an AES-256 key in a key store, or adopt one already in its HSM.") { store, name, description, tags, usage, hsmLabel, activatesAt };
        command.SetClientAction(env, async (call, ct) =>
        {
            var id = await Lookup.KeyStoreIdAsync(call.Api, call.Parse.GetValue(store)!, ct);
            var tagMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var tag in call.Parse.GetValue(tags) ?? [])
            {
                var equals = tag.IndexOf('=', StringComparison.Ordinal);
                tagMap[tag[..equals]] = tag[(equals + 1)..];
            }

            var usageValue = call.Parse.GetValue(usage);
            var request = new CreateKeyRequest(call.Parse.GetValue(name), call.Parse.GetValue(description), tagMap,
                usageValue is null ? null : usageValue.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                call.Parse.GetValue(hsmLabel), call.Parse.GetValue(activatesAt));
            var key = await call.Api.PostAsync(ManagementClient.Route("keystores", id, "keys"), request,
                ManagementJson.Default.CreateKeyRequest, ManagementJson.Default.KeyView, ct);
            Print(call, key);
            return 0;
        });
        return command;
    }

    private static Command List(CliEnvironment env)
    {
        var store = new Option<string?>("--keystore") { Description = "Only keys of this key store (id or name)" };
        var filter = new Option<string?>("--filter") { Description = "Only keys whose name or description contains this text" };
        var tag = new Option<string?>("--tag") { Description = "Only keys with this tag: key (any value) or key=value" };
        var enabled = new Option<bool?>("--enabled") { Description = "Only enabled (true) or disabled (false) keys", HelpName = "true|false" };
        var limit = new Option<int?>("--limit") { Description = "Keys per page, 1 to 1000 (server default 100)", CustomParser = WholeNumber.Int32From(1, 1000) };
        var after = new Option<string?>("--after") { Description = "Start after this cursor (printed by the previous page)" };
        var all = new Option<bool>("--all") { Description = "Follow the cursor and list every page" };
        var command = new Command("list", "List keys, one page at a time (see --after and --all).") { store, filter, tag, enabled, limit, after, all };
        command.SetClientAction(env, async (call, ct) =>
        {
            var query = new List<string>();
            if (call.Parse.GetValue(store) is { } storeValue)
            {
                query.Add("keystore=" + Uri.EscapeDataString(await Lookup.KeyStoreIdAsync(call.Api, storeValue, ct)));
            }

            Add(query, "q", call.Parse.GetValue(filter));
            Add(query, "tag", call.Parse.GetValue(tag));
            Add(query, "enabled", call.Parse.GetValue(enabled) is { } e ? (e ? "true" : "false") : null);
            Add(query, "limit", call.Parse.GetValue(limit)?.ToString(System.Globalization.CultureInfo.InvariantCulture));

            var keys = new List<KeyView>();
            var cursor = call.Parse.GetValue(after);
            var everyPage = call.Parse.GetValue(all);
            ApiResult<KeyListView> page;
            do
            {
                var path = ManagementClient.Route("keys") + "?" + string.Join('&', cursor is null ? query : [.. query, "after=" + Uri.EscapeDataString(cursor)]);
                page = await call.Api.GetAsync(path.TrimEnd('?'), ManagementJson.Default.KeyListView, ct);
                keys.AddRange(page.Value.Keys);
                cursor = page.Value.Next;
            }
            while (everyPage && cursor is not null);

            if (call.Json)
            {
                // One page is the API's answer as sent; --all joins the pages into the same shape.
                Json.Write(call.Out, everyPage
                    ? System.Text.Json.JsonSerializer.Serialize(new KeyListView(keys, null), ManagementJson.Default.KeyListView)
                    : page.Json);
                return 0;
            }

            Views.Keys(call.Out, keys);
            if (cursor is not null)
            {
                await call.Out.WriteLineAsync($"More keys: coffer key list --after {cursor} (or --all)");
            }

            return 0;
        });
        return command;
    }

    private static Command Show(CliEnvironment env)
    {
        var key = KeyArgument();
        var command = new Command("show", "Show a key with its versions.") { key };
        command.SetClientAction(env, async (call, ct) =>
        {
            var id = await Lookup.KeyIdAsync(call.Api, call.Parse.GetValue(key)!, ct);
            Print(call, await call.Api.GetAsync(ManagementClient.Route("keys", id), ManagementJson.Default.KeyView, ct));
            return 0;
        });
        return command;
    }

    private static Command SetEnabled(CliEnvironment env, bool enable)
    {
        var key = KeyArgument();
        var command = enable
            ? new Command("enable", "Enable a key: AWS KMS may use it again.") { key }
            : new Command("disable", "Disable a key: AWS KMS can no longer encrypt or decrypt with it.") { key };
        command.SetClientAction(env, async (call, ct) =>
        {
            var id = await Lookup.KeyIdAsync(call.Api, call.Parse.GetValue(key)!, ct);
            Print(call, await call.Api.PostAsync(ManagementClient.Route("keys", id, enable ? "enable" : "disable"), ManagementJson.Default.KeyView, ct));
            return 0;
        });
        return command;
    }

    internal static Argument<string> KeyArgument() => new("id") { Description = "Key id or key name (externalKeyId)" };

    internal static Argument<int> VersionArgument() =>
        new("version") { Description = "Version number (see 'coffer key version list')", CustomParser = WholeNumber.RequiredInt32 };

    internal static void Print(ClientCall call, ApiResult<KeyView> key)
    {
        call.Print(key, Views.Key);
    }

    private static void Add(List<string> query, string name, string? value)
    {
        if (value is not null)
        {
            query.Add(name + "=" + Uri.EscapeDataString(value));
        }
    }
}
