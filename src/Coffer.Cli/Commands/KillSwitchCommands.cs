using System.CommandLine;
using Coffer.Cli.Client;
using Coffer.Cli.Output;
using Coffer.Server.Management;

namespace Coffer.Cli.Commands;

/// <summary><c>coffer kill-switch engage|release|list</c>: cut AWS off from keys at once, and restore it.</summary>
internal static class KillSwitchCommands
{
    // Each scope's option, in the order the help lists them; exactly one is given (or --all). A key
    // store or key may be named; the server takes its id.
    private static readonly (string Option, string Scope, string Description, Func<ManagementClient, string, CancellationToken, Task<string>>? Id)[] Scopes =
    [
        ("--keystore", "keystore", "Block every key of this key store (id or name)", Lookup.KeyStoreIdAsync),
        ("--key", "key", "Block this key (id or name)", Lookup.KeyIdAsync),
        ("--region", "region", "Block calls for KMS keys in this AWS region or region set (eea, eu-adequacy, yours)", null),
        ("--account", "account", "Block calls whose KMS key or principal is in this AWS account (12 digits)", null),
        ("--principal", "principal", "Block calls by this AWS principal ARN; '*' matches any run of characters (arn:aws:iam::111122223333:role/*)", null),
        ("--vpc", "vpc", "Block calls from this VPC", null),
        ("--vpce", "vpce", "Block calls through this VPC endpoint", null),
    ];

    public static void AddTo(RootCommand root, CliEnvironment env) =>
        root.Subcommands.Add(new Command("kill-switch",
            "Cut AWS KMS off from keys at once: matching XKS calls answer InvalidStateException until released; nothing about the keys changes.")
        {
            Engage(env), Release(env), List(env),
        });

    private static Command Engage(CliEnvironment env)
    {
        var all = new Option<bool>("--all") { Description = "Block every key call of every key store" };
        var scoped = Scopes.Select(s => new Option<string?>(s.Option) { Description = s.Description }).ToArray();
        var reason = new Option<string>("--reason") { Description = "Why (required): shown to administrators and in the audit log", Required = true };
        var command = new Command("engage", "Engage a kill switch for everything (--all) or for one scope.") { all, reason };
        foreach (var option in scoped)
        {
            command.Options.Add(option);
        }

        command.Validators.Add(result =>
        {
            var given = scoped.Count(o => result.GetValue(o) is not null) + (result.GetValue(all) ? 1 : 0);
            if (given != 1)
            {
                result.AddError("Name exactly one of --all, " + string.Join(", ", Scopes.Select(s => s.Option)) + ".");
            }
        });
        command.SetClientAction(env, async (call, ct) =>
        {
            var index = Array.FindIndex(scoped, o => call.Parse.GetValue(o) is not null);
            var request = new KillSwitchRequest("all", null, call.Parse.GetValue(reason));
            if (index >= 0)
            {
                var (_, scope, _, id) = Scopes[index];
                var value = call.Parse.GetValue(scoped[index])!;
                request = request with { Scope = scope, Value = id is null ? value : await id(call.Api, value, ct) };
            }

            var result = await call.Api.PostAsync(ManagementClient.Route("kill-switches"), request,
                ManagementJson.Default.KillSwitchRequest, ManagementJson.Default.KillSwitchView, ct);
            if (call.Json)
            {
                Json.Write(call.Out, result.Json);
            }
            else
            {
                var s = result.Value;
                await call.Out.WriteLineAsync($"engaged {s.Id}: {s.Scope}{(s.Value is null ? "" : " " + s.Value)} is blocked (release: coffer kill-switch release {s.Id})");
            }

            return 0;
        });
        return command;
    }

    private static Command Release(CliEnvironment env)
    {
        var id = new Argument<string>("id") { Description = "The kill switch's id (coffer kill-switch list)" };
        var command = new Command("release", "Release a kill switch: what only it blocked works again at once.") { id };
        command.SetClientAction(env, async (call, ct) =>
        {
            var result = await call.Api.PostAsync(ManagementClient.Route("kill-switches", call.Parse.GetValue(id)!, "release"), ManagementJson.Default.KillSwitchView, ct);
            if (call.Json)
            {
                Json.Write(call.Out, result.Json);
            }
            else
            {
                await call.Out.WriteLineAsync($"released {result.Value.Id}");
            }

            return 0;
        });
        return command;
    }

    private static Command List(CliEnvironment env)
    {
        var all = new Option<bool>("--all") { Description = "Also list released switches" };
        var command = new Command("list", "List the engaged kill switches: scope, who engaged them, when and why.") { all };
        command.SetClientAction(env, async (call, ct) =>
        {
            var path = ManagementClient.Route("kill-switches") + (call.Parse.GetValue(all) ? "?all=true" : "");
            var result = await call.Api.GetAsync(path, ManagementJson.Default.ListKillSwitchView, ct);
            if (call.Json)
            {
                Json.Write(call.Out, result.Json);
                return 0;
            }

            if (result.Value.Count == 0)
            {
                await call.Out.WriteLineAsync("No kill switch is engaged.");
                return 0;
            }

            Table.Write(call.Out, ["ID", "SCOPE", "VALUE", "ENGAGED", "BY", "REASON", "RELEASED"],
                result.Value.Select(s => (IReadOnlyList<string>)
                [
                    s.Id, s.Scope, s.Value ?? "-", Table.Time(s.EngagedAt), s.EngagedBy, s.Reason,
                    s.ReleasedAt is null ? "-" : Table.Time(s.ReleasedAt) + " by " + s.ReleasedBy,
                ]));
            return 0;
        });
        return command;
    }
}
