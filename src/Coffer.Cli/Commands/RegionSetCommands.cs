using System.CommandLine;
using Coffer.Cli.Client;
using Coffer.Cli.Output;
using Coffer.Server.Management;

namespace Coffer.Cli.Commands;

/// <summary><c>coffer region-set list|show|set|delete</c>: named region sets for access rules; eea and
/// eu-adequacy are built in and read-only.</summary>
internal static class RegionSetCommands
{
    public static void AddTo(RootCommand root, CliEnvironment env) => root.Subcommands.Add(
        new Command("region-set", "Named sets of AWS regions that access rules use (kmsKeyRegion, signingRegion).")
        {
            List(env), Show(env), Set(env), Delete(env),
        });

    private static Argument<string> NameArgument() => new("name") { Description = "The set's name: a-z, 0-9 and '-' (eea and eu-adequacy are built in)" };

    private static Command List(CliEnvironment env)
    {
        var command = new Command("list", "List the built-in and user-defined region sets.");
        command.SetClientAction(env, async (call, ct) =>
        {
            var sets = await call.Api.GetAsync(ManagementClient.Route("region-sets"), ManagementJson.Default.ListRegionSetView, ct);
            if (call.Json)
            {
                Json.Write(call.Out, sets.Json);
            }
            else
            {
                Table.Write(call.Out, ["NAME", "KIND", "REGIONS"], sets.Value.Select(s => (IReadOnlyList<string>)
                    [s.Name, s.BuiltIn ? "built-in" : "user", string.Join(' ', s.Regions)]));
            }

            return 0;
        });
        return command;
    }

    private static Command Show(CliEnvironment env)
    {
        var name = NameArgument();
        var command = new Command("show", "Show the regions of a set.") { name };
        command.SetClientAction(env, async (call, ct) =>
        {
            Print(call, await call.Api.GetAsync(ManagementClient.Route("region-sets", call.Parse.GetValue(name)!), ManagementJson.Default.RegionSetView, ct));
            return 0;
        });
        return command;
    }

    private static Command Set(CliEnvironment env)
    {
        var name = NameArgument();
        var regions = new Argument<string[]>("regions") { Description = "AWS region names, e.g. eu-central-1 eu-north-1", Arity = ArgumentArity.OneOrMore };
        var command = new Command("set", "Create or replace a user-defined region set; rules that use it change at once.") { name, regions };
        command.SetClientAction(env, async (call, ct) =>
        {
            Print(call, await call.Api.PutAsync(ManagementClient.Route("region-sets", call.Parse.GetValue(name)!),
                new RegionSetRequest([.. call.Parse.GetValue(regions)!]), ManagementJson.Default.RegionSetRequest, ManagementJson.Default.RegionSetView, ct));
            return 0;
        });
        return command;
    }

    private static Command Delete(CliEnvironment env)
    {
        var name = NameArgument();
        var command = new Command("delete", "Delete a user-defined region set that no rules use.") { name };
        command.SetClientAction(env, async (call, ct) =>
        {
            await call.Api.DeleteAsync(ManagementClient.Route("region-sets", call.Parse.GetValue(name)!), ct);
            await call.Out.WriteLineAsync($"Region set '{call.Parse.GetValue(name)}' deleted.");
            return 0;
        });
        return command;
    }

    private static void Print(ClientCall call, ApiResult<RegionSetView> set)
    {
        if (call.Json)
        {
            Json.Write(call.Out, set.Json);
            return;
        }

        Table.Properties(call.Out, [("Name", set.Value.Name), ("Kind", set.Value.BuiltIn ? "built-in (read-only)" : "user"), ("Regions", string.Join(' ', set.Value.Regions))]);
    }
}
