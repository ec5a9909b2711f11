using System.Text;
using Coffer.Testing;
using static Coffer.Cli.Tests.BackupSteps;

namespace Coffer.Cli.Tests;

/// <summary>
/// <c>coffer backup</c> and <c>coffer restore</c> (docs/backup.md) against a real node: a SQLite file in
/// a data directory of the test's own, backed up through the management API while it serves, the
/// directory deleted, restored by the <c>coffer</c> executable as a process of its own, and a node
/// started on the result with the master key file and dev.json put back (they are what an operator
/// keeps apart from the backup).
/// </summary>
public sealed class BackupCommandTests : IDisposable
{
    private readonly string _root = Cli.EmptyDirectory();

    private string DataDirectory => Path.Combine(_root, "data");

    private string Kept => Path.Combine(_root, "kept");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Keys_stores_credentials_rules_and_kill_switches_survive_backup_deletion_and_restore_and_old_ciphertext_decrypts()
    {
        var plaintext = Encoding.UTF8.GetBytes("made before the backup");
        var backup = Path.Combine(_root, "coffer.backup");
        var ledger = Path.Combine(_root, "ledger.jsonl");
        XksEncrypted sealedData;
        string credentials;
        await using (var node = await DevServer.StartAsync(dataDirectory: DataDirectory))
        {
            await MustAsync(node, "key", "create", "demo", "--name", "other-key");
            await MustAsync(node, "keystore", "credential", "add", "demo");
            await MustAsync(node, "kill-switch", "engage", "--key", "other-key", "--reason", "kept across a restore");
            var rules = Path.Combine(_root, "rules.json");
            await File.WriteAllTextAsync(rules, """{"rules":[{"name":"eea-only","effect":"allow","kmsKeyRegion":["eea"]}]}""");
            await MustAsync(node, "policy", "set", "--keystore", "demo", "--file", rules);
            sealedData = await XksClient.For(node).MustEncryptAsync(node.Info.KeyId, plaintext);
            credentials = (await MustAsync(node, "keystore", "credential", "list", "demo")).Out;

            var made = await MustAsync(node, "backup", "--output", backup);
            await MustAsync(node, "audit", "export", "--output", ledger);
            var recorded = (await MustAsync(node, "audit", "list", "--action", "backup.create", "--outcome", "ok", "--json")).Json.GetProperty("records")[0];
            Assert.Contains(System.Text.RegularExpressions.Regex.Match(made.Out, "SHA-256 [0-9a-f]{64}").Value, recorded.GetProperty("details").GetString(), StringComparison.Ordinal);

            Assert.Matches(@"^wrote .*coffer\.backup: backup of node test-node at \S+, schema \d+, master key check [0-9a-f]{32}, \d+ bytes, SHA-256 [0-9a-f]{64}", made.Out);
            Assert.True(OperatingSystem.IsWindows() || File.GetUnixFileMode(backup) == (UnixFileMode.UserRead | UnixFileMode.UserWrite));
            Assert.StartsWith("COFFER BACKUP\nformat: 1\nnotice: This file holds a Coffer database. Every key and secret in it is sealed under the master key, which is not in this file",
                Encoding.UTF8.GetString(File.ReadAllBytes(backup).AsSpan(0, 200)), StringComparison.Ordinal);
            Assert.Empty(Directory.GetFiles(DataDirectory, ".backup-*"));
        }

        KeepMasterKeyAndDeleteData();
        var restored = await RestoreProcessAsync(backup, "--ledger", ledger);
        PutMasterKeyBack();

        Assert.True(restored.ExitCode == 0, restored.ToString());
        Assert.Contains("restored the backup of node test-node", restored.Out, StringComparison.Ordinal);
        await using (var node = await DevServer.StartAsync(dataDirectory: DataDirectory))
        {
            var xks = XksClient.For(node);
            var decrypted = await xks.DecryptAsync(node.Info.KeyId, sealedData);
            Assert.True(decrypted.Status == 200, decrypted.ToString());
            Assert.Equal(plaintext, decrypted.Bytes("plaintext"));
            Assert.Contains("other-key", (await MustAsync(node, "key", "list")).Out, StringComparison.Ordinal);
            Assert.Equal(credentials, (await MustAsync(node, "keystore", "credential", "list", "demo")).Out);
            Assert.Contains("kept across a restore", (await MustAsync(node, "kill-switch", "list")).Out, StringComparison.Ordinal);
            var policy = (await MustAsync(node, "policy", "show", "--keystore", "demo", "--json")).Json;
            Assert.Equal("eea-only", policy.GetProperty("document").GetProperty("rules")[0].GetProperty("name").GetString());
            var blocked = await xks.EncryptAsync("other-key", plaintext);
            Assert.Equal(400, blocked.Status);
            Assert.Contains("InvalidStateException", blocked.Body, StringComparison.Ordinal);

            var verify = await MustAsync(node, "audit", "verify");
            Assert.StartsWith("ok: ", verify.Out, StringComparison.Ordinal);
            var records = (await MustAsync(node, "audit", "list", "--action", "backup.restore", "--json")).Json.GetProperty("records");
            Assert.Equal(1, records.GetArrayLength());
            Assert.Contains("destruction ledger", records[0].GetProperty("details").GetString(), StringComparison.Ordinal);
            // The copy was made between the backup's two records: it holds the request, the live log both.
            var created = (await MustAsync(node, "audit", "list", "--action", "backup.create", "--json")).Json.GetProperty("records");
            Assert.Equal(["requested"], created.EnumerateArray().Select(r => r.GetProperty("outcome").GetString()));
        }
    }

    [Fact]
    public async Task A_backup_taken_under_XKS_load_fails_no_call()
    {
        await using var node = await DevServer.StartAsync(dataDirectory: DataDirectory);
        var xks = XksClient.For(node);
        using var stop = new CancellationTokenSource();
        var calls = 0;
        var failures = new List<string>();
        async Task LoadAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                var response = await xks.EncryptAsync(node.Info.KeyId, [1, 2, 3]);
                Interlocked.Increment(ref calls);
                if (response.Status != 200)
                {
                    lock (failures)
                    {
                        failures.Add(response.ToString());
                    }
                }
            }
        }

        var load = Enumerable.Range(0, 8).Select(_ => Task.Run(LoadAsync)).ToList();
        await Wait.UntilAsync(() => Volatile.Read(ref calls) > 200, "XKS calls under way");
        var before = Volatile.Read(ref calls);
        for (var i = 0; i < 3; i++)
        {
            await MustAsync(node, "backup", "--output", Path.Combine(_root, $"under-load-{i}.backup"));
        }

        var during = Volatile.Read(ref calls) - before;
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.Empty(failures);
        Assert.True(during > 0, "no XKS call ran while the backups were taken");
        var restored = await RestoreInProcessIntoAsync(Path.Combine(_root, "under-load-2.backup"), Path.Combine(_root, "restored"), "--allow-destroyed-keys-to-return");
        Assert.True(restored.ExitCode == 0, restored.ToString());
    }

    [Fact]
    public async Task A_corrupt_truncated_or_altered_backup_is_refused_and_the_data_directory_is_left_as_it_was()
    {
        var backup = Path.Combine(_root, "good.backup");
        await using (var node = await DevServer.StartAsync(dataDirectory: DataDirectory))
        {
            await MustAsync(node, "backup", "--output", backup);
        }

        var bytes = await File.ReadAllBytesAsync(backup);
        var bodyStart = Encoding.UTF8.GetString(bytes).IndexOf("\n\n", StringComparison.Ordinal) + 2;
        var corrupt = (byte[])bytes.Clone();
        corrupt[bodyStart + ((bytes.Length - bodyStart) / 2)] ^= 0x01;
        var header = Encoding.UTF8.GetString(bytes, 0, bodyStart);
        var otherKey = System.Text.RegularExpressions.Regex.Replace(header, "master-check-id: [0-9a-f]{32}", "master-check-id: " + new string('0', 32));
        var cases = new Dictionary<string, (byte[] Bytes, string Error)>
        {
            ["corrupt"] = (corrupt, "its body's SHA-256 is not the one its header records"),
            ["truncated"] = (bytes[..^100], "is truncated: its body has"),
            ["header only"] = (bytes[..bodyStart], "is truncated: its body has 0 of"),
            ["trailing bytes"] = ([.. bytes, 0x0a], "has bytes after the"),
            ["not a backup"] = ("SQLite format 3\0"u8.ToArray(), "does not start with a Coffer backup header"),
            ["altered header"] = ([.. Encoding.UTF8.GetBytes(otherKey), .. bytes[bodyStart..]], "does not hold the master key check value its header names"),
        };

        var before = Snapshot(DataDirectory);
        foreach (var (name, (content, error)) in cases)
        {
            var path = Path.Combine(_root, "bad.backup");
            await File.WriteAllBytesAsync(path, content);

            var over = await RestoreInProcessAsync(path, "--allow-destroyed-keys-to-return", "--replace");
            var fresh = await RestoreInProcessIntoAsync(path, Path.Combine(_root, "fresh"), "--allow-destroyed-keys-to-return");

            Assert.True(over.ExitCode == 1, name + ": " + over);
            Assert.Contains(error, over.Error, StringComparison.Ordinal);
            Assert.Contains("Nothing was changed.", over.Error, StringComparison.Ordinal);
            Assert.Equal(before, Snapshot(DataDirectory));
            Assert.Equal(1, fresh.ExitCode);
            Assert.False(Directory.Exists(Path.Combine(_root, "fresh")), name + ": the new directory was made");
            Assert.Empty(Directory.GetDirectories(_root, ".*restoring*"));
        }
    }

    [Fact]
    public async Task A_restore_refuses_a_non_empty_directory_unless_told_and_then_keeps_its_other_files()
    {
        var backup = Path.Combine(_root, "coffer.backup");
        await using (var node = await DevServer.StartAsync(dataDirectory: DataDirectory))
        {
            await MustAsync(node, "backup", "--output", backup);
            await MustAsync(node, "key", "create", "demo", "--name", "made-after-the-backup");
        }

        var before = Snapshot(DataDirectory);
        var refused = await RestoreInProcessAsync(backup, "--allow-destroyed-keys-to-return");

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("is not empty", refused.Error, StringComparison.Ordinal);
        Assert.Contains("--replace", refused.Error, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(DataDirectory));

        var replaced = await RestoreInProcessAsync(backup, "--allow-destroyed-keys-to-return", "--replace");

        Assert.True(replaced.ExitCode == 0, replaced.ToString());
        await using (var node = await DevServer.StartAsync(dataDirectory: DataDirectory))
        {
            Assert.DoesNotContain("made-after-the-backup", (await MustAsync(node, "key", "list")).Out, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_key_destroyed_after_the_backup_stays_destroyed_with_the_ledger_and_returns_only_when_asked_for_loudly()
    {
        var time = NewClock();
        var backup = Path.Combine(_root, "coffer.backup");
        var ledger = Path.Combine(_root, "ledger.jsonl");
        string doomed;
        await using (var node = await DevServer.StartAsync(dataDirectory: DataDirectory, time: time))
        {
            doomed = (await MustAsync(node, "key", "create", "demo", "--name", "doomed", "--json")).Json.GetProperty("id").GetString()!;
            await MustAsync(node, "backup", "--output", backup);
            await DestroyAsync(node, time, "doomed");
            await MustAsync(node, "audit", "export", "--output", ledger);
        }

        KeepMasterKeyAndDeleteData();
        var unsaid = await RestoreInProcessAsync(backup);

        Assert.Equal(2, unsaid.ExitCode);
        Assert.Contains("--ledger", unsaid.Error, StringComparison.Ordinal);
        Assert.Contains("--allow-destroyed-keys-to-return", unsaid.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(DataDirectory));

        var withLedger = await RestoreProcessAsync(backup, "--ledger", ledger);
        PutMasterKeyBack();

        Assert.True(withLedger.ExitCode == 0, withLedger.ToString());
        Assert.Contains("1 versions and 1 keys destroyed again", withLedger.Out, StringComparison.Ordinal);
        await using (var node = await DevServer.StartAsync(dataDirectory: DataDirectory, time: time))
        {
            Assert.Equal("destroyed", await StatusAsync(node, doomed));
            var encrypt = await (XksClient.For(node) with { SigningTime = time.GetUtcNow() }).EncryptAsync(doomed, [1]);
            Assert.Equal(404, encrypt.Status);
            Assert.Contains("KeyNotFoundException", encrypt.Body, StringComparison.Ordinal);
            Assert.StartsWith("ok: ", (await MustAsync(node, "audit", "verify")).Out, StringComparison.Ordinal);
        }

        KeepMasterKeyAndDeleteData();
        var loud = await RestoreInProcessAsync(backup, "--allow-destroyed-keys-to-return");
        PutMasterKeyBack();

        Assert.True(loud.ExitCode == 0, loud.ToString());
        Assert.Contains("WARNING: no destruction ledger was applied", loud.Error, StringComparison.Ordinal);
        await using (var node = await DevServer.StartAsync(dataDirectory: DataDirectory, time: time))
        {
            Assert.Equal("enabled", await StatusAsync(node, doomed));
            var record = (await MustAsync(node, "audit", "list", "--action", "backup.restore", "--json")).Json.GetProperty("records")[0];
            Assert.Contains("may have come back", record.GetProperty("details").GetString(), StringComparison.Ordinal);
        }
    }

    /// <summary><c>coffer restore</c> as its own process, as an operator runs it.</summary>
    private Task<CliResult> RestoreProcessAsync(string backup, params string[] args) =>
        Cli.RunProcessAsync(new Dictionary<string, string>(), null, ["restore", backup, "--data", DataDirectory, .. args]);

    /// <summary>In process, for the refusals (quicker, the same code).</summary>
    private Task<CliResult> RestoreInProcessAsync(string backup, params string[] args) => RestoreInProcessIntoAsync(backup, DataDirectory, args);

    private static Task<CliResult> RestoreInProcessIntoAsync(string backup, string dataDirectory, params string[] args) =>
        Cli.RunAsync(Cli.Environment(null, null), ["restore", backup, "--data", dataDirectory, .. args]);

    /// <summary>The master key file and dev.json, which an operator keeps apart from the backups, go
    /// aside; then the data directory is lost.</summary>
    private void KeepMasterKeyAndDeleteData()
    {
        Directory.CreateDirectory(Kept);
        foreach (var name in new[] { "master.key", "dev.json" })
        {
            File.Copy(Path.Combine(DataDirectory, name), Path.Combine(Kept, name), overwrite: true);
        }

        Directory.Delete(DataDirectory, recursive: true);
    }

    private void PutMasterKeyBack()
    {
        foreach (var name in new[] { "master.key", "dev.json" })
        {
            File.Copy(Path.Combine(Kept, name), Path.Combine(DataDirectory, name), overwrite: true);
        }
    }

    /// <summary>Every file under the directory with its SHA-256, to show a refusal changed nothing.</summary>
    private static string Snapshot(string directory) => string.Join('\n',
        Directory.GetFiles(directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(f => f + " " + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))));
}
