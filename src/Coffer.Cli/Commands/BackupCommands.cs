using System.CommandLine;
using System.Globalization;
using Coffer.Cli.Client;
using Coffer.Server.Backup;
using Coffer.Server.Hosting;

namespace Coffer.Cli.Commands;

/// <summary>
/// <c>coffer backup</c>, <c>coffer restore</c> and <c>coffer restore-postgres</c> (docs/backup.md):
/// an online backup of a SQLite node through the management API, and its restore into a data
/// directory with the destruction ledger; a PostgreSQL database is backed up with its own tools and
/// checked here before a node starts on it.
/// </summary>
internal static class BackupCommands
{
    private const string AllowReturn = "--allow-destroyed-keys-to-return";

    public static void AddTo(RootCommand root, CliEnvironment env)
    {
        root.Subcommands.Add(Backup(env));
        root.Subcommands.Add(Restore(env));
        root.Subcommands.Add(RestorePostgres(env));
    }

    private static Command Backup(CliEnvironment env)
    {
        var output = new Option<string>("--output") { Description = "The backup file to write; it must not exist yet", Required = true };
        var command = new Command("backup",
            "Take a consistent backup of a SQLite node while it serves (administrators only). The file holds only sealed material: keep the master key apart from it.")
        {
            output,
        };
        command.SetClientAction(env, async (call, ct) =>
        {
            var path = Path.Combine(env.WorkingDirectory, call.Parse.GetValue(output)!);
            if (File.Exists(path))
            {
                throw new CliException($"{path} exists; a backup never overwrites a file, so name a new one.", CliException.Usage);
            }

            // Written beside the target and renamed only once whole and checked: a cut connection never
            // leaves a file that looks like a backup.
            var partial = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.partial");
            try
            {
                await using (var file = OwnerOnlyFiles.Open(partial, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write }))
                {
                    await call.Api.PostAndCopyAsync(ManagementClient.Route("backup"), file, ct);
                    file.Flush(flushToDisk: true);
                }

                var header = await VerifiedAsync(partial, ct);
                File.Move(partial, path);
                await call.Out.WriteLineAsync($"wrote {path}: {header.Describe()}");
                return 0;
            }
            finally
            {
                File.Delete(partial);
            }
        });
        return command;
    }

    private static Command Restore(CliEnvironment env)
    {
        var file = new Argument<string>("file") { Description = "The backup file (coffer backup --output)" };
        var data = new Option<string>("--data") { Description = "The data directory to restore into; absent or empty unless --replace", Required = true };
        var (ledger, allow) = LedgerOptions();
        var replace = new Option<bool>("--replace") { Description = "Replace the database of a data directory that is not empty (other files in it stay)" };
        var command = new Command("restore",
            "Restore a SQLite backup into a data directory, checking the file whole first and applying the destruction ledger, before any node starts on it.")
        {
            file, data, ledger, allow, replace,
        };
        command.SetAction(async (parse, ct) => await RunAsync(env, async () =>
        {
            var destructions = await ReadLedgerAsync(env, parse, ledger, allow, ct);
            var (header, summary) = await BackupRestore.RestoreAsync(
                Path.Combine(env.WorkingDirectory, parse.GetValue(file)!), Path.Combine(env.WorkingDirectory, parse.GetValue(data)!),
                destructions, parse.GetValue(replace), new CofferOptions().NodeId, TimeProvider.System, ct);
            await env.Out.WriteLineAsync($"restored the {header.Describe()}");
            await ReportAsync(env, destructions, summary, header.CreatedAt);
            await env.Out.WriteLineAsync("Next: make the master key available (its shares, its HSM, or the dev key file), start Coffer on the directory, unseal, and run coffer audit verify.");
            return 0;
        }));
        return command;
    }

    private static Command RestorePostgres(CliEnvironment env)
    {
        var config = new Option<string?>("--config") { Description = "The nodes' JSON configuration file, whose Storage names the restored PostgreSQL database (COFFER_* variables override it)" };
        var (ledger, allow) = LedgerOptions();
        var masterCheck = new Option<string?>("--master-check-id") { Description = "The master key check id the database must hold (as coffer backup and this command print it)" };
        var command = new Command("restore-postgres",
            "Check a PostgreSQL database restored with pg_restore or to a point in time, and apply the destruction ledger, before any node starts on it.")
        {
            config, ledger, allow, masterCheck,
        };
        command.SetAction(async (parse, ct) => await RunAsync(env, async () =>
        {
            var destructions = await ReadLedgerAsync(env, parse, ledger, allow, ct);
            var options = ServerCommand.Load(parse.GetValue(config) is { } path ? Path.Combine(env.WorkingDirectory, path) : null);
            var checkedDatabase = await PostgresRestore.FinishAsync(options, destructions, parse.GetValue(masterCheck), TimeProvider.System, ct);
            await env.Out.WriteLineAsync($"checked the restored PostgreSQL database: schema {checkedDatabase.SchemaVersion}, master key check {checkedDatabase.MasterCheckId}");
            await ReportAsync(env, destructions, checkedDatabase.Summary, since: null);
            await env.Out.WriteLineAsync("Next: start the nodes, unseal, and run coffer audit verify.");
            return 0;
        }));
        return command;
    }

    private static (Option<string[]> Ledger, Option<bool> Allow) LedgerOptions() =>
    (
        new Option<string[]>("--ledger")
        {
            Description = "Audit records kept apart from the backup (coffer audit export, a file sink's file, an audit archive); every key destroyed in them stays destroyed. Repeat for several files",
        },
        new Option<bool>(AllowReturn)
        {
            Description = "Restore without a destruction ledger: keys destroyed after the backup was taken come back with it",
        });

    private static async Task<DestructionLedger?> ReadLedgerAsync(CliEnvironment env, ParseResult parse, Option<string[]> ledger, Option<bool> allow, CancellationToken ct)
    {
        var files = parse.GetValue(ledger) ?? [];
        if (files.Length > 0 && parse.GetValue(allow))
        {
            throw new CliException($"give --ledger or {AllowReturn}, not both.", CliException.Usage);
        }

        if (files.Length == 0 && !parse.GetValue(allow))
        {
            throw new CliException(
                "a restore brings back every key the backup holds, including keys destroyed since it was taken. Give the destruction ledger with --ledger FILE " +
                $"(coffer audit export, or your audit sink's files), or, if there is none, say so with {AllowReturn}.", CliException.Usage);
        }

        return files.Length == 0 ? null : await DestructionLedger.ReadAsync([.. files.Select(f => Path.Combine(env.WorkingDirectory, f))], ct);
    }

    private static async Task ReportAsync(CliEnvironment env, DestructionLedger? ledger, RestoreSummary summary, DateTimeOffset? since)
    {
        if (ledger is null)
        {
            await env.Error.WriteLineAsync(
                "WARNING: no destruction ledger was applied. Keys destroyed " + (since is { } t ? $"after {t.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} " : "after the backup ") +
                "are back in this database and will serve again; the audit log's first new record says so.");
            return;
        }

        await env.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"destruction ledger: {ledger.Entries.Count} destructions read; {summary.Versions} versions and {summary.Keys} keys destroyed again; {summary.NotInBackup} concerned keys the backup does not hold"));
    }

    /// <summary>A refusal is one line on stderr and a non-zero exit, never a stack trace.</summary>
    private static async Task<int> RunAsync(CliEnvironment env, Func<Task<int>> run)
    {
        try
        {
            return await run();
        }
        catch (BackupFileException e)
        {
            await env.Error.WriteLineAsync($"Error: {e.Message} Nothing was changed.");
            return CliException.Failure;
        }
        catch (CliException e)
        {
            await env.Error.WriteLineAsync($"Error: {e.Message}");
            return e.ExitCode;
        }
    }

    private static async Task<BackupHeader> VerifiedAsync(string path, CancellationToken ct)
    {
        try
        {
            return await BackupRestore.VerifyAsync(path, ct);
        }
        catch (BackupFileException e)
        {
            throw new CliException($"{e.Message} The backup was not written.");
        }
    }
}
