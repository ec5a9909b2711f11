using System.CommandLine;
using Coffer.Cli.Client;
using Coffer.Cli.Output;
using Coffer.Server.Approvals;
using Coffer.Server.Management;

namespace Coffer.Cli.Commands;

/// <summary><c>coffer quorum list|show|set|delete</c>: which operations need M approvals from which group.</summary>
internal static class QuorumCommands
{
    public static void AddTo(RootCommand root, CliEnvironment env) =>
        root.Subcommands.Add(new Command("quorum",
            "Quorum policies: dangerous operations that run only once M members of an approver group approve them.")
        {
            List(env), Show(env), Set(env), Delete(env),
        });

    private static Command List(CliEnvironment env)
    {
        var command = new Command("list", "List quorum policies.");
        command.SetClientAction(env, async (call, ct) =>
        {
            var result = await call.Api.GetAsync(ManagementClient.Route("quorum-policies"), ManagementJson.Default.ListQuorumPolicyView, ct);
            call.Print(result, (output, policies) => Table.Write(output, ["NAME", "OPERATIONS", "APPROVALS", "GROUP", "LIFETIME"],
                policies.Select(p => (IReadOnlyList<string>)[p.Name, string.Join(", ", p.Operations), p.RequiredApprovals.ToString(System.Globalization.CultureInfo.InvariantCulture), p.ApproverGroup, p.LifetimeHours + " h"])));
            return 0;
        });
        return command;
    }

    private static Command Show(CliEnvironment env)
    {
        var name = new Argument<string>("name") { Description = "The policy's name" };
        var command = new Command("show", "Show a quorum policy.") { name };
        command.SetClientAction(env, async (call, ct) =>
        {
            var result = await call.Api.GetAsync(ManagementClient.Route("quorum-policies", call.Parse.GetValue(name)!), ManagementJson.Default.QuorumPolicyView, ct);
            call.Print(result, Write);
            return 0;
        });
        return command;
    }

    private static Command Set(CliEnvironment env)
    {
        var name = new Argument<string>("name") { Description = "The policy's name (created, or replaced whole)" };
        var operations = new Option<string[]>("--operation")
        {
            Description = "An operation it guards (repeat): " + string.Join(", ", Coffer.Approvals.QuorumOperations.All),
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var required = new Option<int>("--required") { Description = "M: approvals needed from members other than the requester", Required = true, CustomParser = WholeNumber.RequiredInt32 };
        var group = new Option<string>("--group") { Description = "The approver group", Required = true };
        var lifetime = new Option<int?>("--lifetime-hours") { Description = "How long a request waits for votes (default 24, at most 720)", CustomParser = WholeNumber.Int32 };
        var command = new Command("set", "Create or replace a quorum policy.") { name, operations, required, group, lifetime };
        command.SetClientAction(env, async (call, ct) =>
        {
            var request = new QuorumPolicyRequest(call.Parse.GetValue(operations), call.Parse.GetValue(required), call.Parse.GetValue(group), call.Parse.GetValue(lifetime));
            var result = await call.Api.PutAsync(ManagementClient.Route("quorum-policies", call.Parse.GetValue(name)!), request,
                ManagementJson.Default.QuorumPolicyRequest, ManagementJson.Default.QuorumPolicyView, ct);
            call.Print(result, Write);
            return 0;
        });
        return command;
    }

    private static Command Delete(CliEnvironment env)
    {
        var name = new Argument<string>("name") { Description = "The policy's name" };
        var command = new Command("delete", "Delete a quorum policy: its operations run without approval again.") { name };
        command.SetClientAction(env, async (call, ct) =>
        {
            await call.Api.DeleteAsync(ManagementClient.Route("quorum-policies", call.Parse.GetValue(name)!), ct);
            await call.Out.WriteLineAsync($"deleted quorum policy {call.Parse.GetValue(name)}");
            return 0;
        });
        return command;
    }

    private static void Write(TextWriter output, QuorumPolicyView p) => Table.Properties(output,
    [
        ("NAME", p.Name), ("OPERATIONS", string.Join(", ", p.Operations)), ("APPROVALS", $"{p.RequiredApprovals} from group '{p.ApproverGroup}'"),
        ("LIFETIME", p.LifetimeHours + " h"), ("UPDATED", Table.Time(p.UpdatedAt) + " by " + p.UpdatedBy),
    ]);
}
