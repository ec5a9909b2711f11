using System.CommandLine;
using System.Globalization;
using Coffer.Cli.Client;
using Coffer.Cli.Output;
using Coffer.Server.Management;

namespace Coffer.Cli.Commands;

/// <summary><c>coffer audit ...</c>: prove the audit chain unbroken, read it, export it.</summary>
internal static class AuditCommands
{
    public static void AddTo(RootCommand root) => AddTo(root, CliEnvironment.ForProcess(Console.Out, Console.Error));

    public static void AddTo(RootCommand root, CliEnvironment env)
    {
        var command = new Command("audit", "The audit log: every XKS call, management change, seal change and failed login, hash-chained.")
        {
            Verify(env), List(env), Export(env), Report(env), AuditArchiveCommands.Archive(env), AuditArchiveCommands.Archives(env),
        };
        root.Subcommands.Add(command);
    }

    private static Command Verify(CliEnvironment env)
    {
        var anchor = new Option<string?>("--anchor")
        {
            Description = "SEQ:HASH printed by an earlier verify and kept outside Coffer: the chain must still hold that record (finds a rollback of the database)",
        };
        anchor.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string?>();
            var colon = value?.IndexOf(':', StringComparison.Ordinal) ?? -1;
            if (value is not null && (colon < 1 || !long.TryParse(value.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out _) || value.Length - colon - 1 != 64))
            {
                result.AddError("--anchor takes SEQ:HASH, e.g. 1234:9f86d08...(64 hex digits), as verify prints it.");
            }
        });
        var archives = new Option<string?>("--archives")
        {
            Description = "Also walk the archive files, from record 1 through every archive into the database: those in Audit.ArchiveDirectory, or in DIR, an absolute path on the server (a copy of the archives)",
            HelpName = "DIR",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var full = new Option<bool>("--full")
        {
            Description = "Walk the whole chain, not only the records after the last verify's checkpoint: finds a record changed before that checkpoint (run it regularly, e.g. weekly)",
        };
        var command = new Command("verify",
            "Walk the audit chain on the server from where the last verify ended and report the first changed, missing, reordered, rebuilt or unproven record; progress on stderr. Exit code 1 on any problem.")
        {
            anchor, archives, full,
        };
        command.SetClientAction(env, async (call, ct) =>
        {
            var path = ManagementClient.Route("audit", "verify");
            if (call.Parse.GetValue(anchor) is { } a)
            {
                var colon = a.IndexOf(':', StringComparison.Ordinal);
                path += "?anchorSequence=" + a[..colon] + "&anchorHash=" + Uri.EscapeDataString(a[(colon + 1)..]);
            }

            if (call.Parse.GetResult(archives) is not null)
            {
                path += (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "archives=true"
                    + (call.Parse.GetValue(archives) is { } directory ? "&archiveDirectory=" + Uri.EscapeDataString(directory) : "");
            }

            if (call.Parse.GetValue(full))
            {
                path += (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "full=true";
            }

            var v = await AuditVerifyProgress.RunAsync(call, path, ct);
            if (call.Json)
            {
                Json.Write(call.Out, System.Text.Json.JsonSerializer.Serialize(v, ManagementJson.Default.AuditVerifyView));
            }
            else if (v.Ok)
            {
                await call.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"ok: {v.Records} records, last seq {v.LastSequence}, last checkpoint {v.LastCheckpoint}"));
                if (v.FirstSequence > 1)
                {
                    await call.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"records before {v.FirstSequence} were verified earlier or archived: --full walks them again"));
                }

                // Kept outside Coffer (a ticket, a SIEM), this finds a later rollback: --anchor.
                await call.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"anchor: {v.LastSequence}:{v.LastHash}"));
            }
            else
            {
                await call.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"problem: {v.Problem} at record {v.ProblemSequence}: {v.Message}"));
                await call.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{v.Records} records verified before it (last good seq {v.LastSequence}, last good checkpoint {v.LastCheckpoint})"));
            }

            return v.Ok ? 0 : CliException.Failure;
        }, longRunning: true);
        return command;
    }

    private static Command List(CliEnvironment env)
    {
        var from = TimeOption.Create("--from", "Only records at or after this time (ISO 8601, e.g. 2026-01-31T00:00:00Z)");
        var to = TimeOption.Create("--to", "Only records before this time");
        var key = new Option<string?>("--key") { Description = "Only records about this key (id or name)" };
        var store = new Option<string?>("--keystore") { Description = "Only records about this key store (id or name)" };
        var actor = new Option<string?>("--actor") { Description = "Only records by this actor, as the ACTOR column shows it: a SigV4 access key id, a token, user or app id, system (scheduled work, start-up) or anonymous" };
        var action = new Option<string?>("--action") { Description = "Only this action, e.g. xks.encrypt, key.create, auth.failed" };
        var outcome = new Option<string?>("--outcome") { Description = "ok, denied, error or requested" };
        outcome.AcceptOnlyFromAmong("ok", "denied", "error", "requested");
        var request = new Option<string?>("--kms-request-id") { Description = "Only the record(s) of this AWS KMS request id" };
        var region = new Option<string?>("--region") { Description = "Only calls for KMS keys in this AWS region" };
        var account = new Option<string?>("--account") { Description = "Only calls for KMS keys of this AWS account" };
        var limit = new Option<int?>("--limit") { Description = "Records per page, 1 to 1000 (server default 100)", CustomParser = WholeNumber.Int32From(1, 1000) };
        var before = new Option<long?>("--before") { Description = "Only records older than this sequence number (the cursor printed by the previous page)", CustomParser = WholeNumber.Int64 };
        var all = new Option<bool>("--all") { Description = "Follow the cursor and list every page" };
        var command = new Command("list", "List audit records, newest first, one page at a time.")
        {
            from, to, key, store, actor, action, outcome, request, region, account, limit, before, all,
        };
        command.SetClientAction(env, async (call, ct) =>
        {
            var query = new List<string>();
            Add(query, "from", call.Parse.GetValue(from)?.ToString("O", CultureInfo.InvariantCulture));
            Add(query, "to", call.Parse.GetValue(to)?.ToString("O", CultureInfo.InvariantCulture));
            Add(query, "keyId", call.Parse.GetValue(key) is { } k ? await Lookup.KeyIdAsync(call.Api, k, ct) : null);
            Add(query, "keyStore", call.Parse.GetValue(store) is { } s ? await Lookup.KeyStoreIdAsync(call.Api, s, ct) : null);
            Add(query, "actor", call.Parse.GetValue(actor));
            Add(query, "action", call.Parse.GetValue(action));
            Add(query, "outcome", call.Parse.GetValue(outcome));
            Add(query, "kmsRequestId", call.Parse.GetValue(request));
            Add(query, "region", call.Parse.GetValue(region));
            Add(query, "account", call.Parse.GetValue(account));
            Add(query, "limit", call.Parse.GetValue(limit)?.ToString(CultureInfo.InvariantCulture));

            var records = new List<AuditRecordView>();
            var cursor = call.Parse.GetValue(before);
            var everyPage = call.Parse.GetValue(all);
            ApiResult<AuditRecordListView> page;
            do
            {
                var parameters = cursor is null ? query : [.. query, "before=" + cursor.Value.ToString(CultureInfo.InvariantCulture)];
                var path = ManagementClient.Route("audit", "records") + (parameters.Count == 0 ? "" : "?" + string.Join('&', parameters));
                page = await call.Api.GetAsync(path, ManagementJson.Default.AuditRecordListView, ct);
                records.AddRange(page.Value.Records);
                cursor = page.Value.Next;
            }
            while (everyPage && cursor is not null);

            if (call.Json)
            {
                Json.Write(call.Out, everyPage
                    ? System.Text.Json.JsonSerializer.Serialize(new AuditRecordListView(records, null, page.Value.Archived), ManagementJson.Default.AuditRecordListView)
                    : page.Json);
                return 0;
            }

            Table.Write(call.Out, ["SEQ", "TIME", "ACTION", "OUTCOME", "ACTOR", "KEY STORE", "KEY", "REGION", "DETAILS"],
                records.Select(r => (IReadOnlyList<string>)
                [
                    r.Sequence.ToString(CultureInfo.InvariantCulture), Table.Time(r.Time), r.Action, r.Outcome,
                    r.ActorId ?? r.ActorKind ?? "-", r.KeyStore ?? "-", r.KeyId ?? "-", r.AwsRegion ?? "-",
                    string.Join("; ", new[] { r.ErrorName, r.Reason, r.Details }.Where(s => !string.IsNullOrEmpty(s))),
                ]));
            if (cursor is not null)
            {
                await call.Out.WriteLineAsync($"More records: coffer audit list --before {cursor.Value.ToString(CultureInfo.InvariantCulture)} (or --all)");
            }

            if (page.Value.Archived is { } archived)
            {
                await call.Out.WriteLineAsync(archived);
            }

            return 0;
        });
        return command;
    }

    private static Command Export(CliEnvironment env)
    {
        var format = new Option<string>("--format") { Description = "jsonl (one JSON record per line) or cef (ArcSight CEF)", DefaultValueFactory = _ => "jsonl" };
        format.AcceptOnlyFromAmong("jsonl", "cef");
        var after = new Option<long?>("--after") { Description = "Only records after this sequence number (what the SIEM already has)", CustomParser = WholeNumber.Int64 };
        var from = TimeOption.Create("--from", "Only records at or after this time (ISO 8601)");
        var to = TimeOption.Create("--to", "Only records before this time");
        var output = new Option<string?>("--output") { Description = "Write to this file instead of standard output" };
        var command = new Command("export", "Stream audit records, oldest first, as JSON lines or CEF for a SIEM.") { format, after, from, to, output };
        command.SetClientAction(env, async (call, ct) =>
        {
            var query = new List<string> { "format=" + call.Parse.GetValue(format) };
            Add(query, "after", call.Parse.GetValue(after)?.ToString(CultureInfo.InvariantCulture));
            Add(query, "from", call.Parse.GetValue(from)?.ToString("O", CultureInfo.InvariantCulture));
            Add(query, "to", call.Parse.GetValue(to)?.ToString("O", CultureInfo.InvariantCulture));
            var path = ManagementClient.Route("audit", "export") + "?" + string.Join('&', query);
            if (call.Parse.GetValue(output) is { } file)
            {
                await using var writer = new StreamWriter(file, append: false, new System.Text.UTF8Encoding(false)) { NewLine = "\n" };
                var lines = await call.Api.CopyLinesAsync(path, writer, ct);
                await call.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{lines} records written to {file}"));
            }
            else
            {
                await call.Api.CopyLinesAsync(path, call.Out, ct);
            }

            return 0;
        }, longRunning: true);
        return command;
    }

    private static Command Report(CliEnvironment env)
    {
        var from = TimeOption.Create("--from", "Start of the period (ISO 8601; default: 30 days before --to)");
        var to = TimeOption.Create("--to", "End of the period, exclusive (default: now)");
        var regions = new Option<string?>("--allowed-regions") { Description = "Comma-separated AWS regions or region sets the keys may be used from, e.g. eea or eu-west-1,eu-central-1" };
        var format = new Option<string>("--format") { Description = "markdown or json", DefaultValueFactory = _ => "markdown" };
        format.AcceptOnlyFromAmong("markdown", "json");
        var output = new Option<string?>("--output") { Description = "Write to this file instead of standard output" };
        var command = new Command("report",
            "Compliance report: per key, calls by AWS region, account, principal and operation (served and refused apart), denials by rule, changes, and whether any use came from outside the allowed regions; archived records of the period are counted from their files, or named as left out.")
        {
            from, to, regions, format, output,
        };
        command.SetClientAction(env, async (call, ct) =>
        {
            var query = new List<string> { "format=" + call.Parse.GetValue(format) };
            Add(query, "from", call.Parse.GetValue(from)?.ToString("O", CultureInfo.InvariantCulture));
            Add(query, "to", call.Parse.GetValue(to)?.ToString("O", CultureInfo.InvariantCulture));
            Add(query, "allowedRegions", call.Parse.GetValue(regions));
            var path = ManagementClient.Route("audit", "report") + "?" + string.Join('&', query);
            if (call.Parse.GetValue(output) is { } file)
            {
                await using var writer = new StreamWriter(file, append: false, new System.Text.UTF8Encoding(false)) { NewLine = "\n" };
                await call.Api.CopyLinesAsync(path, writer, ct);
            }
            else
            {
                await call.Api.CopyLinesAsync(path, call.Out, ct);
            }

            return 0;
        }, longRunning: true);
        return command;
    }

    private static void Add(List<string> query, string name, string? value)
    {
        if (value is not null)
        {
            query.Add(name + "=" + Uri.EscapeDataString(value));
        }
    }
}
