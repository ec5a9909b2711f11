using System.CommandLine;
using Coffer.Auth;
using Coffer.Cli.Client;
using Coffer.Cli.Output;
using Coffer.Server.Management;

namespace Coffer.Cli.Commands;

/// <summary><c>coffer user|app create|list|show|set|disable</c>: people and service accounts with
/// roles and groups; <c>coffer token create --owner</c> issues them tokens.</summary>
internal static class PrincipalCommands
{
    public static void AddTo(RootCommand root, CliEnvironment env)
    {
        root.Subcommands.Add(Kind(env, CallerKinds.User, "People who manage Coffer, with roles and groups (also matched to identity-provider logins)."));
        root.Subcommands.Add(Kind(env, CallerKinds.App, "Service accounts (apps) that call the management API, with roles and groups."));
    }

    private static Command Kind(CliEnvironment env, string kind, string description) =>
        new(kind, description) { Create(env, kind), List(env, kind), Show(env, kind), Set(env, kind), Disable(env, kind) };

    private static string Route(string kind, params string[] rest) => ManagementClient.Route([kind + "s", .. rest]);

    private sealed record Fields(Option<string> Name, Option<string[]> Roles, Option<string[]> Groups, Option<string>? Subject)
    {
        public async Task<PrincipalRequest> ReadAsync(ClientCall call, CancellationToken ct)
        {
            var grants = new List<RoleGrantBody>();
            foreach (var text in call.Parse.GetValue(Roles) ?? [])
            {
                grants.Add(text.Split('@', 2) is [var role, var keyStore]
                    ? new RoleGrantBody(role, await Lookup.KeyStoreIdAsync(call.Api, keyStore, ct))
                    : new RoleGrantBody(text));
            }

            return new(call.Parse.GetValue(Name), Subject is null ? null : call.Parse.GetValue(Subject), grants, [.. call.Parse.GetValue(Groups) ?? []]);
        }
    }

    private static Fields NewFields(string kind, Command command)
    {
        var fields = new Fields(
            new Option<string>("--name") { Description = "Who or what it is", Required = true },
            new Option<string[]>("--role") { Description = "A role, or role@keystore (the key store's id or name) for one key store only; repeat for more", AllowMultipleArgumentsPerToken = false },
            new Option<string[]>("--group") { Description = "A group (approver groups of quorum policies); repeat for more" },
            kind == CallerKinds.User ? new Option<string>("--oidc-subject") { Description = "The identity provider's 'sub' for this person" } : null);
        command.Options.Add(fields.Name);
        command.Options.Add(fields.Roles);
        command.Options.Add(fields.Groups);
        if (fields.Subject is not null)
        {
            command.Options.Add(fields.Subject);
        }

        return fields;
    }

    private static Command Create(CliEnvironment env, string kind)
    {
        var command = new Command("create", $"Create a {kind}; then `coffer token create --owner <id or name>` gives it a token.");
        var fields = NewFields(kind, command);
        command.SetClientAction(env, async (call, ct) =>
        {
            Print(call, await call.Api.PostAsync(Route(kind), await fields.ReadAsync(call, ct), ManagementJson.Default.PrincipalRequest, ManagementJson.Default.PrincipalView, ct));
            return 0;
        });
        return command;
    }

    private static Command Set(CliEnvironment env, string kind)
    {
        var id = IdArgument(kind);
        var command = new Command("set", $"Replace a {kind}'s name, roles and groups (those not given are removed).") { id };
        var fields = NewFields(kind, command);
        command.SetClientAction(env, async (call, ct) =>
        {
            Print(call, await call.Api.PutAsync(Route(kind, await IdAsync(call, id, kind, ct)), await fields.ReadAsync(call, ct),
                ManagementJson.Default.PrincipalRequest, ManagementJson.Default.PrincipalView, ct));
            return 0;
        });
        return command;
    }

    private static Command List(CliEnvironment env, string kind)
    {
        var command = new Command("list", $"List {kind}s with their roles and groups.");
        command.SetClientAction(env, async (call, ct) =>
        {
            var result = await call.Api.GetAsync(Route(kind), ManagementJson.Default.ListPrincipalView, ct);
            if (call.Json)
            {
                Json.Write(call.Out, result.Json);
                return 0;
            }

            Table.Write(call.Out, ["ID", "NAME", "ROLES", "GROUPS", "STATE"], result.Value.Select(p => (IReadOnlyList<string>)
                [p.Id, p.Name, Grants(p), string.Join(' ', p.Groups), p.DisabledAt is null ? "enabled" : "disabled"]));
            return 0;
        });
        return command;
    }

    private static Command Show(CliEnvironment env, string kind)
    {
        var id = IdArgument(kind);
        var command = new Command("show", $"Show a {kind}.") { id };
        command.SetClientAction(env, async (call, ct) =>
        {
            Print(call, await call.Api.GetAsync(Route(kind, await IdAsync(call, id, kind, ct)), ManagementJson.Default.PrincipalView, ct));
            return 0;
        });
        return command;
    }

    private static Command Disable(CliEnvironment env, string kind)
    {
        var id = IdArgument(kind);
        var command = new Command("disable", $"Disable a {kind} for good and revoke its tokens.") { id };
        command.SetClientAction(env, async (call, ct) =>
        {
            Print(call, await call.Api.PostAsync(Route(kind, await IdAsync(call, id, kind, ct), "disable"), ManagementJson.Default.PrincipalView, ct));
            return 0;
        });
        return command;
    }

    private static Argument<string> IdArgument(string kind) => new(kind) { Description = $"The {kind}'s id or name" };

    private static Task<string> IdAsync(ClientCall call, Argument<string> argument, string kind, CancellationToken ct) =>
        Lookup.PrincipalIdAsync(call.Api, call.Parse.GetValue(argument)!, ct, kind);

    private static string Grants(PrincipalView p) => string.Join(' ', p.Roles.Select(g => g.KeyStoreId is null ? g.Role : g.Role + "@" + g.KeyStoreId));

    private static void Print(ClientCall call, ApiResult<PrincipalView> result)
    {
        if (call.Json)
        {
            Json.Write(call.Out, result.Json);
            return;
        }

        var p = result.Value;
        Table.Properties(call.Out,
        [
            ("Id", p.Id), ("Kind", p.Kind), ("Name", p.Name), ("OIDC subject", p.OidcSubject ?? "-"), ("Roles", Grants(p)),
            ("Groups", string.Join(' ', p.Groups)), ("Created", Table.Time(p.CreatedAt)), ("State", p.DisabledAt is null ? "enabled" : "disabled " + Table.Time(p.DisabledAt)),
        ]);
    }
}
