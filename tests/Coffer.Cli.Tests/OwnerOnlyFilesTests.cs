using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary>
/// Coffer's files are its user's alone, whatever the umask it was started with: <c>coffer dev</c> and
/// <c>coffer server</c>, run under umask 022 (which would leave files 0644 and directories 0755), create
/// every directory 0700 and every file 0600 — the database with its -wal and -shm, the dev seal's key,
/// TLS key and certificate, dev.json, the SoftHSM2 token, audit files and archives, inside the data
/// directory or not — and warn about a data directory that others may enter.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class OwnerOnlyFilesTests
{
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = OwnerOnlyFile | UnixFileMode.UserExecute;

    [Fact]
    public async Task Dev_under_umask_022_creates_its_data_directory_0700_and_every_file_in_it_0600()
    {
        await using var dev = await DevProcess.StartAsync("--tls", "--pkcs11");
        // XKS is HTTPS with a self-signed certificate here; the demo's creation is audited already.
        await ArchiveAsync(dev.Info.AdminUrl, dev.Info.AdminToken);

        var entries = Entries(dev.DataDirectory);

        Assert.Equal(OwnerOnlyDirectory, File.GetUnixFileMode(dev.DataDirectory));
        Assert.Contains(entries, e => e.Path.EndsWith("coffer.db-wal", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Path.EndsWith("coffer.db-shm", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Path.EndsWith("tls.crt", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Path.Contains("/audit-archives/audit-", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Path.Contains("/softhsm/tokens/", StringComparison.Ordinal) && !e.IsDirectory);
        Assert.All(entries, AssertOwnerOnly);
    }

    [Fact]
    public async Task Server_under_umask_022_warns_about_an_open_data_directory_and_still_writes_every_file_0600_audit_files_and_archives_elsewhere_included()
    {
        var directory = Directory.CreateTempSubdirectory("coffer-modes-").FullName;
        try
        {
            // coffer dev prepares the data directory (dev seal, demo key store and key, admin token).
            Coffer.Server.Hosting.DevInfo prepared;
            await using (var dev = await DevProcess.StartInAsync(directory))
            {
                prepared = dev.Info;
                // Stopped, not killed: it gives up the cluster lease, so the server below leads (and runs
                // the file sink) at once rather than after the lease ran out.
                await dev.InterruptAsync();
            }

            var data = Path.Combine(directory, "data");
            var elsewhere = Path.Combine(directory, "elsewhere");
            File.SetUnixFileMode(data, OwnerOnlyDirectory | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            var config = Path.Combine(directory, "coffer.json");
            await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
            {
                DataDirectory = data,
                Seal = "dev",
                NodeId = "modes",
                Xks = new { Address = "127.0.0.1", Port = 0, AllowPlainHttp = true },
                Admin = new { Address = "127.0.0.1", Port = 0 },
                Audit = new
                {
                    ArchiveDirectory = Path.Combine(elsewhere, "archives"),
                    File = new { Enabled = true, Path = Path.Combine(elsewhere, "audit", "audit.jsonl"), MaxFileBytes = 4096, KeepFiles = 3 },
                },
            }));

            await using var server = CofferProcess.Start(directory, ["server", "--config", config]);
            var started = await StartedAsync(server);
            var xks = new XksClient(new Uri(started.Xks.TrimEnd('/') + prepared.UriPrefix + Coffer.KeyStores.UriPrefix.XksSuffix), prepared.AccessKeyId, prepared.SecretAccessKey);
            for (var i = 0; i < 20; i++)
            {
                // Audit records, which the file sink writes and rotates.
                await xks.MustEncryptAsync(prepared.KeyId, "file modes"u8.ToArray());
            }

            await ArchiveAsync(started.Admin, prepared.AdminToken);

            Assert.Contains($"[1106] The data directory {data} has mode 0755", server.Output, StringComparison.Ordinal);
            var entries = Entries(data).Where(e => e.Path != data).Concat(Entries(elsewhere)).ToList();
            Assert.Contains(entries, e => e.Path.EndsWith("audit.jsonl.1", StringComparison.Ordinal));
            Assert.Contains(entries, e => e.Path.Contains("/elsewhere/archives/audit-", StringComparison.Ordinal));
            Assert.All(entries, AssertOwnerOnly);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Archives the audit log up to what it can, retrying while a sink has not yet delivered
    /// the records.</summary>
    private static async Task ArchiveAsync(string adminUrl, string adminToken)
    {
        using var admin = new HttpClient { BaseAddress = new Uri(adminUrl) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        for (var attempt = 0; ; attempt++)
        {
            using var response = await admin.PostAsync(new Uri("/api/v1/audit/archives", UriKind.Relative), new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            Assert.True(attempt < 40, $"no archive: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            await Task.Delay(250);
        }
    }

    private static async Task<(string Xks, string Admin)> StartedAsync(ChildProcess server)
    {
        for (var waited = 0; waited < 120; waited++)
        {
            if (StartedLine().Match(server.Output) is { Success: true } match)
            {
                return (match.Groups["xks"].Value, match.Groups["admin"].Value);
            }

            Assert.False(server.HasExited, server.Output);
            await Task.Delay(500);
        }

        Assert.Fail($"coffer server did not start within 60 s: {server.Output}");
        return default;
    }

    private static List<(string Path, bool IsDirectory)> Entries(string root) =>
        [(root, true), .. Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Select(p => (p, Directory.Exists(p)))];

    private static void AssertOwnerOnly((string Path, bool IsDirectory) entry)
    {
        var expected = entry.IsDirectory ? OwnerOnlyDirectory : OwnerOnlyFile;
        var mode = File.GetUnixFileMode(entry.Path);
        Assert.True(mode == expected, $"{entry.Path}: {Convert.ToString((int)mode, 8)}, expected {Convert.ToString((int)expected, 8)}");
    }

    [GeneratedRegex(@"XKS on (?<xks>\S+), management on (?<admin>\S+), unsealed\.")]
    private static partial Regex StartedLine();
}
