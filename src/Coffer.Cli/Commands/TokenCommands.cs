using System.CommandLine;
using Coffer.Auth;
using Coffer.Cli.Client;
using Coffer.Cli.Output;
using Coffer.Server.Management;

namespace Coffer.Cli.Commands;

/// <summary><c>coffer token create|list|revoke</c>: management API tokens for people and apps, with roles.</summary>
internal static class TokenCommands
{
    public static void AddTo(RootCommand root, CliEnvironment env) =>
        root.Subcommands.Add(new Command("token", "Management API tokens: each has a role, or stands for a user or app.")
        {
            Create(env), List(env), Revoke(env),
        });

    private static Command Create(CliEnvironment env)
    {
        var name = new Option<string>("--name") { Description = "Who or what uses the token", Required = true };
        var role = new Option<string>("--role") { Description = "The token stands for itself with this role: " + string.Join(", ", Roles.All) + " or a custom one" };
        var keyStore = new Option<string>("--key-store") { Description = "With --role: the role holds on this key store (id or name) only" };
        var owner = new Option<string>("--owner") { Description = "The token stands for this user or app (id or name), with its roles and groups" };
        var days = new Option<int?>("--expires-days") { Description = "Days until the token expires (default: never)", CustomParser = WholeNumber.Int32 };
        var command = new Command("create", "Create a token (give --role or --owner); it is printed once and cannot be shown again.") { name, role, keyStore, owner, days };
        command.SetClientAction(env, async (call, ct) =>
        {
            var ownerId = call.Parse.GetValue(owner) is { } o ? await Lookup.PrincipalIdAsync(call.Api, o, ct, CallerKinds.User, CallerKinds.App) : null;
            var keyStoreId = call.Parse.GetValue(keyStore) is { } s ? await Lookup.KeyStoreIdAsync(call.Api, s, ct) : null;
            var result = await call.Api.PostAsync(ManagementClient.Route("tokens"),
                new CreateTokenRequest(call.Parse.GetValue(name), call.Parse.GetValue(role), call.Parse.GetValue(days), ownerId, keyStoreId),
                ManagementJson.Default.CreateTokenRequest, ManagementJson.Default.CreatedToken, ct);
            if (call.Json)
            {
                Json.Write(call.Out, result.Json);
            }
            else
            {
                var t = result.Value;
                await call.Out.WriteLineAsync($"token {t.Id} ({Holder(t.Role, t.KeyStoreId, t.Owner)}) — shown once, keep it safe:");
                await call.Out.WriteLineAsync(t.Token);
            }

            return 0;
        });
        return command;
    }

    private static Command List(CliEnvironment env)
    {
        var command = new Command("list", "List tokens: role, expiry, revocation (never the tokens themselves).");
        command.SetClientAction(env, async (call, ct) =>
        {
            var result = await call.Api.GetAsync(ManagementClient.Route("tokens"), ManagementJson.Default.ListTokenView, ct);
            if (call.Json)
            {
                Json.Write(call.Out, result.Json);
                return 0;
            }

            Table.Write(call.Out, ["ID", "NAME", "ROLE OR OWNER", "CREATED", "EXPIRES", "REVOKED"],
                result.Value.Select(t => (IReadOnlyList<string>)
                [
                    t.Id, t.Name, Holder(t.Role, t.KeyStoreId, t.Owner), Table.Time(t.CreatedAt), t.ExpiresAt is null ? "never" : Table.Time(t.ExpiresAt), t.RevokedAt is null ? "-" : Table.Time(t.RevokedAt),
                ]));
            return 0;
        });
        return command;
    }

    private static string Holder(string? role, string? keyStoreId, string? owner) =>
        owner is not null ? "for " + owner : keyStoreId is null ? role ?? "-" : role + " on " + keyStoreId;

    private static Command Revoke(CliEnvironment env)
    {
        var token = new Argument<string>("token") { Description = "The token's id or name (coffer token list)" };
        var command = new Command("revoke", "Revoke a token at once.") { token };
        command.SetClientAction(env, async (call, ct) =>
        {
            var id = await Lookup.TokenIdAsync(call.Api, call.Parse.GetValue(token)!, ct);
            await call.Api.DeleteAsync(ManagementClient.Route("tokens", id), ct);
            await call.Out.WriteLineAsync($"revoked {id}");
            return 0;
        });
        return command;
    }
}
