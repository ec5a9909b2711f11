using Coffer.Server.Approvals;

namespace Coffer.Cli.Client;

/// <summary>
/// A guarded call answered 202: a quorum policy covers it, so it was not run but became an approval
/// request. Not an error — the CLI prints the request and exits with <see cref="CliException.ApprovalPending"/>.
/// </summary>
internal sealed class ApprovalPendingException : CliException
{
    public ApprovalPendingException(ApprovalView request, string json)
        : base($"approval needed: request {request.Id}", ApprovalPending)
    {
        Request = request;
        Json = json;
    }

    public ApprovalView Request { get; }

    public string Json { get; }

    public async Task WriteAsync(TextWriter output, bool json)
    {
        if (json)
        {
            Output.Json.Write(output, Json);
            return;
        }

        await output.WriteLineAsync(
            $"approval needed: {Request.Operation} was not run; request {Request.Id} needs {Request.RequiredApprovals} approval(s) from group " +
            $"'{Request.ApproverGroup}' before {Output.Table.Time(Request.ExpiresAt)} (coffer approval show {Request.Id})");
    }
}
