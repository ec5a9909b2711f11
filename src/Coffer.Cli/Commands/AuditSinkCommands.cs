using System.CommandLine;
using System.Globalization;
using Coffer.Cli.Client;
using Coffer.Cli.Output;
using Coffer.Server.Management;

namespace Coffer.Cli.Commands;

/// <summary><c>coffer audit sinks</c>: how far each audit sink (syslog, file) is behind the log.</summary>
internal static class AuditSinkCommands
{
    /// <summary>Adds <c>sinks</c> under the <c>audit</c> command that <see cref="AuditCommands"/> made.</summary>
    public static void AddTo(RootCommand root, CliEnvironment env) =>
        root.Subcommands.Single(c => c.Name == "audit").Subcommands.Add(Sinks(env));

    private static Command Sinks(CliEnvironment env)
    {
        var command = new Command("sinks",
            "Show each audit sink's backlog (records written but not yet delivered), last delivery and last error. Exit code 1 while a sink is failing.");
        command.SetClientAction(env, async (call, ct) =>
        {
            var result = await call.Api.GetAsync(ManagementClient.Route("audit", "sinks"), AuditSinkJson.Default.AuditSinkListView, ct);
            var sinks = result.Value.Sinks;
            if (call.Json)
            {
                Json.Write(call.Out, result.Json);
            }
            else if (sinks.Count == 0)
            {
                await call.Out.WriteLineAsync("No audit sinks are configured (Audit.Syslog, Audit.File); records are in the database and in `coffer audit export`.");
            }
            else
            {
                Table.Write(call.Out, ["SINK", "TARGET", "CURSOR", "BACKLOG", "LAST DELIVERY", "FAILURES", "LAST ERROR"],
                    sinks.Select(s => (IReadOnlyList<string>)
                    [
                        s.Name, s.Target, s.Cursor.ToString(CultureInfo.InvariantCulture), s.Backlog.ToString(CultureInfo.InvariantCulture),
                        Table.Time(s.LastDeliveredAt), s.ConsecutiveFailures.ToString(CultureInfo.InvariantCulture),
                        s.LastError is null ? "-" : Table.Time(s.LastErrorAt) + " " + s.LastError,
                    ]));
            }

            return sinks.Any(s => s.ConsecutiveFailures > 0) ? CliException.Failure : 0;
        });
        return command;
    }
}
