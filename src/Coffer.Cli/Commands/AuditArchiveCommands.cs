using System.CommandLine;
using System.Globalization;
using Coffer.Cli.Client;
using Coffer.Cli.Output;
using Coffer.Server.Management;

namespace Coffer.Cli.Commands;

/// <summary><c>coffer audit archive</c> and <c>coffer audit archives</c>: retention of the audit log.</summary>
internal static class AuditArchiveCommands
{
    public static Command Archive(CliEnvironment env)
    {
        var through = new Option<long?>("--through") { Description = "Archive records up to this sequence number at most", CustomParser = WholeNumber.Int64 };
        var before = TimeOption.Create("--before", "Archive only records older than this time (ISO 8601)");
        var command = new Command("archive",
            "Move the oldest audit records into a new archive file on the server (Audit.ArchiveDirectory) and remove them from the database. The chain continues across the cut: 'coffer audit verify --archives' proves both.")
        {
            through, before,
        };
        command.SetClientAction(env, async (call, ct) =>
        {
            var request = new AuditArchiveRequest(call.Parse.GetValue(through), call.Parse.GetValue(before));
            var result = await call.Api.PostAsync(ManagementClient.Route("audit", "archives"), request,
                ManagementJson.Default.AuditArchiveRequest, ManagementJson.Default.AuditArchiveView, ct);
            if (call.Json)
            {
                Json.Write(call.Out, result.Json);
                return 0;
            }

            var a = result.Value;
            await call.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"archived records {a.FirstSequence} to {a.ThroughSequence} into {a.FileName} (sha256 {a.FileSha256})"));
            return 0;
        }, longRunning: true);
        return command;
    }

    public static Command Archives(CliEnvironment env)
    {
        var command = new Command("archives", "List the audit archives: the records each holds and its file.");
        command.SetClientAction(env, async (call, ct) =>
        {
            var result = await call.Api.GetAsync(ManagementClient.Route("audit", "archives"), ManagementJson.Default.ListAuditArchiveView, ct);
            if (call.Json)
            {
                Json.Write(call.Out, result.Json);
                return 0;
            }

            Table.Write(call.Out, ["FIRST", "THROUGH", "CREATED", "FILE", "SHA-256"],
                result.Value.Select(a => (IReadOnlyList<string>)
                [
                    a.FirstSequence.ToString(CultureInfo.InvariantCulture), a.ThroughSequence.ToString(CultureInfo.InvariantCulture),
                    Table.Time(a.CreatedAt), a.FileName, a.FileSha256,
                ]));
            return 0;
        });
        return command;
    }
}
