using System.Diagnostics;
using System.Text.Json;
using Coffer.Testing;
using Xunit.Abstractions;

namespace Coffer.Cli.Tests;

/// <summary>
/// The Debian package (packaging/build-deb.sh, docs/install.md, "The Debian package"): built from the
/// self-contained publish, installed with dpkg, its server run as the coffer user without .NET, and
/// purged. It changes the machine (a package, a user, /var/lib/coffer), so it runs as root, as CI does.
/// </summary>
public sealed class DebianPackageTests(ITestOutputHelper output)
{
    private const string DataDirectory = "/var/lib/coffer";

    /// <summary>Left in the data directory by this test, so a later run knows that leftovers there
    /// (after a run was killed) are its own to remove, and anything else is not.</summary>
    private const string TestMarker = DataDirectory + "/.coffer-package-test";

    private static readonly TimeSpan BuildPatience = TimeSpan.FromMinutes(10);

    [RootFact]
    public async Task The_package_installs_serves_signed_XKS_calls_as_the_coffer_user_and_purges_cleanly()
    {
        var clock = Stopwatch.StartNew();
        await RemoveLeftoversAsync();
        var deb = await BuildPackageAsync();
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: built {deb} ({new FileInfo(deb).Length / 1_000_000} MB)");

        await MustAsync("dpkg", "-i", deb);
        try
        {
            await File.WriteAllTextAsync(TestMarker, "");
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: installed");
            await AssertInstalledFilesAsync();
            var verify = await ExternalTool.RunAsync("systemd-analyze", ["verify", "/lib/systemd/system/coffer.service"]);
            Assert.True(verify.ExitCode == 0 && verify.StandardError.Length == 0, $"systemd-analyze verify: {verify}");

            await ServeAsCofferUserAsync();
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: served and stopped");
        }
        finally
        {
            await ExternalTool.RunAsync("dpkg", ["--purge", "coffer"]);
        }

        Assert.NotEqual(0, (await ExternalTool.RunAsync("dpkg-query", ["-W", "coffer"])).ExitCode);
        foreach (var gone in new[] { "/usr/lib/coffer", "/usr/bin/coffer", "/lib/systemd/system/coffer.service", "/etc/coffer" })
        {
            Assert.False(Path.Exists(gone), $"{gone} is still there after dpkg --purge");
        }

        // Purge keeps the keys (postrm): the test removes them, and the user, itself.
        Assert.True(File.Exists(Path.Combine(DataDirectory, "coffer.db")), "purge removed the database");
        await RemoveDataAndUserAsync();
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: purged");
    }

    private static async Task AssertInstalledFilesAsync()
    {
        // owner:group, octal mode and type of each path the package makes or postinst sets up.
        var expected = new Dictionary<string, string>
        {
            ["/usr/lib/coffer/coffer"] = "root:root 755 regular file",
            ["/usr/lib/coffer/coffer.dll"] = "root:root 644 regular file",
            ["/usr/bin/coffer"] = "root:root 777 symbolic link",
            ["/lib/systemd/system/coffer.service"] = "root:root 644 regular file",
            ["/etc/coffer"] = "root:coffer 750 directory",
            ["/etc/coffer/coffer.json"] = "root:coffer 640 regular file",
            [DataDirectory] = "coffer:coffer 700 directory",
        };
        foreach (var (path, want) in expected)
        {
            var stat = await MustAsync("stat", "-c", "%U:%G %a %F", path);
            Assert.True(stat.StandardOutput.Trim() == want, $"{path}: {stat.StandardOutput.Trim()}, expected {want}");
        }

        Assert.Equal("../lib/coffer/coffer", (await MustAsync("readlink", "/usr/bin/coffer")).StandardOutput.Trim());
        Assert.Contains("/etc/coffer/coffer.json", (await MustAsync("dpkg-query", "-W", "-f=${Conffiles}", "coffer")).StandardOutput, StringComparison.Ordinal);

        // A system user: no login shell, its home the data directory.
        var user = (await MustAsync("getent", "passwd", "coffer")).StandardOutput.Trim().Split(':');
        Assert.True(int.Parse(user[2], System.Globalization.CultureInfo.InvariantCulture) < 1000, $"coffer's uid {user[2]} is not a system uid");
        Assert.Equal(DataDirectory, user[5]);
        Assert.Equal("/usr/sbin/nologin", user[6]);
    }

    /// <summary>The installed executable as the unit runs it — the coffer user, the shipped
    /// configuration, no .NET and nothing else in the environment — on loopback ports given as
    /// overrides; initialised, unsealed and given a key through the installed CLI; then a signed
    /// encrypt and decrypt.</summary>
    private async Task ServeAsCofferUserAsync()
    {
        var (xksPort, adminPort) = (LoopbackPorts.Free(), LoopbackPorts.Free());
        await using var server = ChildProcess.Start("setpriv",
        [
            "--reuid=coffer", "--regid=coffer", "--init-groups", "--no-new-privs", "--",
            "env", "-i", "COFFER_NodeId=package-test", "COFFER_Xks__Address=127.0.0.1", $"COFFER_Xks__Port={xksPort}",
            "COFFER_Xks__AllowPlainHttp=true", $"COFFER_Admin__Port={adminPort}",
            "/usr/bin/coffer", "server", "--config", "/etc/coffer/coffer.json",
        ], workingDirectory: DataDirectory);
        await WaitUntilStartedAsync(server);
        // Real, effective, saved and file-system uid (proc(5)): all coffer's.
        var uid = (await MustAsync("id", "-u", "coffer")).StandardOutput.Trim();
        Assert.Matches($@"\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n", await File.ReadAllTextAsync($"/proc/{server.ProcessId}/status"));

        var admin = new Dictionary<string, string?> { ["COFFER_ADDR"] = $"http://127.0.0.1:{adminPort}" };
        var init = await CofferAsync(admin, "init", "--shares", "1", "--threshold", "1", "--json");
        admin["COFFER_TOKEN"] = init.GetProperty("rootToken").GetString();
        await MustAsync(admin, "/usr/bin/coffer", "unseal", init.GetProperty("shares")[0].GetString()!);
        await CofferAsync(admin, "keystore", "create", "package-test", "--prefix", "/package", "--json");
        var credential = await CofferAsync(admin, "keystore", "credential", "add", "package-test", "--json");
        await CofferAsync(admin, "key", "create", "package-test", "--name", "orders", "--json");

        var xks = new XksClient(new Uri($"http://127.0.0.1:{xksPort}/package/kms/xks/v1"),
            credential.GetProperty("accessKeyId").GetString()!, credential.GetProperty("secretAccessKey").GetString()!);
        var plaintext = "a data key, wrapped by the installed Coffer"u8.ToArray();
        var decrypted = await xks.DecryptAsync("orders", await xks.MustEncryptAsync("orders", plaintext));
        Assert.True(decrypted.Status == 200, decrypted.Body);
        Assert.Equal(plaintext, decrypted.Bytes("plaintext"));

        // What the server wrote, it wrote as coffer, for coffer alone.
        Assert.Equal("coffer:coffer 600", (await MustAsync("stat", "-c", "%U:%G %a", Path.Combine(DataDirectory, "coffer.db"))).StandardOutput.Trim());
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(30)));
    }

    private static async Task WaitUntilStartedAsync(ChildProcess server)
    {
        for (var waited = TimeSpan.Zero; waited < CofferNode.StartPatience; waited += TimeSpan.FromMilliseconds(100))
        {
            if (server.Output.Contains(", management on ", StringComparison.Ordinal))
            {
                return;
            }

            Assert.False(server.HasExited, $"the installed coffer server exited: {server.Output}");
            await Task.Delay(100);
        }

        Assert.Fail($"the installed coffer server did not start: {server.Output}");
    }

    /// <summary>The publish (packaging/publish.sh, reusing this test run's build folder) and the .deb
    /// made from it.</summary>
    private static async Task<string> BuildPackageAsync()
    {
        var packaging = Path.Combine(TestData.RepositoryRoot, "packaging");
        var buildFolder = Environment.GetEnvironmentVariable("COFFER_BUILD_DIR") is { Length: > 0 } dir ? dir : Path.Combine(TestData.RepositoryRoot, ".build");
        var publish = Path.Combine(buildFolder, "publish", "linux-x64");
        await MustAsync(BuildPatience, null, Path.Combine(packaging, "publish.sh"), "linux-x64", publish);
        // zstd: the test needs a package, not the smallest one (xz takes many times longer).
        var built = await MustAsync(BuildPatience, new Dictionary<string, string?> { ["COFFER_DEB_COMPRESSION"] = "zstd" },
            Path.Combine(packaging, "build-deb.sh"), publish, Path.Combine(buildFolder, "deb"));
        return built.StandardOutput.Trim();
    }

    private static async Task RemoveLeftoversAsync()
    {
        if (Directory.Exists(DataDirectory) && !File.Exists(TestMarker))
        {
            Assert.Fail($"{DataDirectory} exists and this test did not make it: it may hold someone's keys, so the test leaves this machine alone.");
        }

        await ExternalTool.RunAsync("dpkg", ["--purge", "coffer"]);
        await RemoveDataAndUserAsync();
    }

    private static async Task RemoveDataAndUserAsync()
    {
        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }

        if ((await ExternalTool.RunAsync("getent", ["passwd", "coffer"])).ExitCode == 0)
        {
            await MustAsync("deluser", "--system", "--quiet", "coffer");
        }
    }

    private static async Task<JsonElement> CofferAsync(IReadOnlyDictionary<string, string?> environment, params string[] arguments)
    {
        var run = await MustAsync(environment, "/usr/bin/coffer", arguments);
        using var json = JsonDocument.Parse(run.StandardOutput);
        return json.RootElement.Clone();
    }

    private static Task<ExternalTool.Output> MustAsync(string path, params string[] arguments) => MustAsync(null, null, path, arguments);

    private static Task<ExternalTool.Output> MustAsync(IReadOnlyDictionary<string, string?> environment, string path, params string[] arguments) =>
        MustAsync(null, environment, path, arguments);

    private static async Task<ExternalTool.Output> MustAsync(TimeSpan? timeout, IReadOnlyDictionary<string, string?>? environment, string path, params string[] arguments)
    {
        var run = await ExternalTool.RunAsync(path, arguments, timeout, environment);
        Assert.True(run.ExitCode == 0, $"{path} {string.Join(' ', arguments)}: {run}");
        return run;
    }
}
