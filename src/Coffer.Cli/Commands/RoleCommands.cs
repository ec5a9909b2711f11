using System.CommandLine;
using Coffer.Auth;
using Coffer.Cli.Client;
using Coffer.Cli.Output;
using Coffer.Server.Management;

namespace Coffer.Cli.Commands;

/// <summary><c>coffer role list|show|set|delete</c>: built-in roles and custom ones built from permissions.</summary>
internal static class RoleCommands
{
    public static void AddTo(RootCommand root, CliEnvironment env) => root.Subcommands.Add(
        new Command("role", "Roles: the built-in ones and custom ones built from fine-grained permissions.")
        {
            List(env), Show(env), Set(env), Delete(env),
        });

    private static Argument<string> NameArgument() => new("name") { Description = "The role's name: a-z, 0-9 and '-'" };

    private static Command List(CliEnvironment env)
    {
        var command = new Command("list", "List roles and their permissions.");
        command.SetClientAction(env, async (call, ct) =>
        {
            var roles = await call.Api.GetAsync(ManagementClient.Route("roles"), ManagementJson.Default.ListRoleView, ct);
            if (call.Json)
            {
                Json.Write(call.Out, roles.Json);
            }
            else
            {
                Table.Write(call.Out, ["NAME", "KIND", "PERMISSIONS"], roles.Value.Select(r => (IReadOnlyList<string>)
                    [r.Name, r.BuiltIn ? "built-in" : "custom", string.Join(' ', r.Permissions)]));
            }

            return 0;
        });
        return command;
    }

    private static Command Show(CliEnvironment env)
    {
        var name = NameArgument();
        var command = new Command("show", "Show a role's permissions.") { name };
        command.SetClientAction(env, async (call, ct) =>
        {
            Print(call, await call.Api.GetAsync(ManagementClient.Route("roles", call.Parse.GetValue(name)!), ManagementJson.Default.RoleView, ct));
            return 0;
        });
        return command;
    }

    private static Command Set(CliEnvironment env)
    {
        var name = NameArgument();
        var permissions = new Argument<string[]>("permissions") { Description = "Permissions: " + string.Join(' ', Permissions.All), Arity = ArgumentArity.OneOrMore };
        var description = new Option<string>("--description") { Description = "What the role is for" };
        var command = new Command("set", "Create or replace a custom role; everyone holding it gets the change on their next call.") { name, permissions, description };
        command.SetClientAction(env, async (call, ct) =>
        {
            Print(call, await call.Api.PutAsync(ManagementClient.Route("roles", call.Parse.GetValue(name)!),
                new CustomRoleRequest(call.Parse.GetValue(description), [.. call.Parse.GetValue(permissions)!]),
                ManagementJson.Default.CustomRoleRequest, ManagementJson.Default.RoleView, ct));
            return 0;
        });
        return command;
    }

    private static Command Delete(CliEnvironment env)
    {
        var name = NameArgument();
        var command = new Command("delete", "Delete a custom role that no one holds.") { name };
        command.SetClientAction(env, async (call, ct) =>
        {
            await call.Api.DeleteAsync(ManagementClient.Route("roles", call.Parse.GetValue(name)!), ct);
            await call.Out.WriteLineAsync($"Role '{call.Parse.GetValue(name)}' deleted.");
            return 0;
        });
        return command;
    }

    private static void Print(ClientCall call, ApiResult<RoleView> role)
    {
        if (call.Json)
        {
            Json.Write(call.Out, role.Json);
            return;
        }

        Table.Properties(call.Out,
        [
            ("Name", role.Value.Name), ("Kind", role.Value.BuiltIn ? "built-in (read-only)" : "custom"),
            ("Description", role.Value.Description), ("Permissions", string.Join(' ', role.Value.Permissions)),
        ]);
    }
}
