using System.CommandLine;
using Coffer.Cli.Client;
using Coffer.Cli.Output;
using Coffer.Server.Approvals;
using Coffer.Server.Management;

namespace Coffer.Cli.Commands;

/// <summary><c>coffer approval list|show|approve|deny|cancel|result</c>: approval requests of guarded calls.</summary>
internal static class ApprovalCommands
{
    public static void AddTo(RootCommand root, CliEnvironment env) =>
        root.Subcommands.Add(new Command("approval",
            "Approval requests: calls a quorum policy holds until enough members of its approver group approve them.")
        {
            List(env), Show(env), Vote(env, "approve", "Approve a request; the approval that completes the quorum runs the call, as its requester."),
            Vote(env, "deny", "Deny a request: it ends and nothing runs."), Cancel(env), Result(env),
        });

    private static Command List(CliEnvironment env)
    {
        var state = new Option<string?>("--state") { Description = "Only requests in this state: " + string.Join(", ", Coffer.Approvals.ApprovalStates.All) };
        var command = new Command("list", "List approval requests, newest first.") { state };
        command.SetClientAction(env, async (call, ct) =>
        {
            var filter = call.Parse.GetValue(state);
            var path = ManagementClient.Route("approvals") + (filter is null ? "" : "?state=" + Uri.EscapeDataString(filter));
            var result = await call.Api.GetAsync(path, ManagementJson.Default.ListApprovalView, ct);
            call.Print(result, (output, requests) => Table.Write(output, ["ID", "OPERATION", "STATE", "APPROVALS", "REQUESTER", "PATH", "EXPIRES"],
                requests.Select(r => (IReadOnlyList<string>)
                [
                    r.Id, r.Operation, r.State, $"{r.Approvals}/{r.RequiredApprovals} ({r.ApproverGroup})", r.Requester.Id, r.Method + " " + r.Path, Table.Time(r.ExpiresAt),
                ])));
            return 0;
        });
        return command;
    }

    private static Command Show(CliEnvironment env)
    {
        var id = IdArgument();
        var command = new Command("show", "Show a request: what, who asked, why, until when, the votes and the outcome.") { id };
        command.SetClientAction(env, async (call, ct) =>
        {
            var result = await call.Api.GetAsync(ManagementClient.Route("approvals", call.Parse.GetValue(id)!), ManagementJson.Default.ApprovalView, ct);
            call.Print(result, Write);
            return 0;
        });
        return command;
    }

    private static Command Vote(CliEnvironment env, string verb, string description)
    {
        var id = IdArgument();
        var comment = new Option<string?>("--comment") { Description = "Why, for the record" };
        var command = new Command(verb, description) { id, comment };
        command.SetClientAction(env, async (call, ct) =>
        {
            var result = await call.Api.PostAsync(ManagementClient.Route("approvals", call.Parse.GetValue(id)!, verb),
                new ApprovalVoteRequest(call.Parse.GetValue(comment)), ManagementJson.Default.ApprovalVoteRequest, ManagementJson.Default.ApprovalView, ct);
            call.Print(result, Write);
            return 0;
        });
        return command;
    }

    private static Command Cancel(CliEnvironment env)
    {
        var id = IdArgument();
        var command = new Command("cancel", "Cancel your own pending request.") { id };
        command.SetClientAction(env, async (call, ct) =>
        {
            var result = await call.Api.PostAsync(ManagementClient.Route("approvals", call.Parse.GetValue(id)!, "cancel"), ManagementJson.Default.ApprovalView, ct);
            call.Print(result, Write);
            return 0;
        });
        return command;
    }

    private static Command Result(CliEnvironment env)
    {
        var id = IdArgument();
        var command = new Command("result", "Print, once, the answer of your executed request when it holds a secret (a new credential); it is erased then.") { id };
        command.SetClientAction(env, async (call, ct) =>
        {
            var result = await call.Api.PostAsync(ManagementClient.Route("approvals", call.Parse.GetValue(id)!, "result"), ManagementJson.Default.JsonElement, ct);
            Json.Write(call.Out, result.Json);
            return 0;
        });
        return command;
    }

    private static Argument<string> IdArgument() => new("id") { Description = "The request's id (apr_…; coffer approval list)" };

    private static void Write(TextWriter output, ApprovalView r)
    {
        Table.Properties(output,
        [
            ("ID", r.Id), ("OPERATION", r.Operation), ("STATE", r.State + (r.EndReason is null ? "" : ": " + r.EndReason)),
            ("CALL", r.Method + " " + r.Path), ("BODY", r.Body?.GetRawText() ?? "-"),
            ("REQUESTER", $"{r.Requester.Kind} {r.Requester.Id} ({r.Requester.Name})"), ("REASON", r.Reason ?? "-"),
            ("APPROVALS", $"{r.Approvals} of {r.RequiredApprovals} from group '{r.ApproverGroup}' (policy {r.Policy})"),
            ("CREATED", Table.Time(r.CreatedAt)), ("EXPIRES", Table.Time(r.ExpiresAt)),
            ("RESULT", r.Result is null ? "-" : r.Result.Status + (r.Result.SealedForRequester ? " (answer kept for the requester: coffer approval result " + r.Id + ")" : "")),
        ]);
        foreach (var vote in r.Votes)
        {
            output.WriteLine($"  {vote.Vote} by {vote.VoterKind} {vote.VoterId} at {Table.Time(vote.At)}{(vote.Comment is null ? "" : ": " + vote.Comment)}");
        }
    }
}
