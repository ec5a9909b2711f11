using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary>`coffer dev` as a process, on the things only a real process shows.</summary>
public sealed class DevProcessTests
{
    [Fact]
    public async Task Dev_watches_no_files_though_its_database_lies_under_its_working_directory()
    {
        // A host that watches its working directory for appsettings changes (ASP.NET Core's default)
        // would take an inotify event for every audit write to the database below it.
        await using var dev = await DevProcess.StartAsync();
        var xks = new XksClient(new Uri(dev.Info.XksBaseUrl), dev.Info.AccessKeyId, dev.Info.SecretAccessKey);
        await xks.MustEncryptAsync(dev.Info.KeyId, "a data key, audited into data/.."u8.ToArray());

        var watchers = Directory.GetFiles($"/proc/{dev.ProcessId}/fd")
            .Select(fd => new FileInfo(fd).LinkTarget)
            .Where(target => target is not null && target.Contains("inotify", StringComparison.Ordinal))
            .ToList();

        Assert.True(Directory.Exists(Path.Combine(dev.WorkingDirectory, "data")), "the database lies under the working directory");
        Assert.Empty(watchers);
    }

    [Fact]
    public async Task The_printed_web_console_address_serves_its_login_page()
    {
        await using var dev = await DevProcess.StartAsync();
        var line = dev.Output.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("Web console", StringComparison.Ordinal));
        var address = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2];

        using var http = new HttpClient();
        var page = await http.GetStringAsync(new Uri(address));
        Assert.Contains("Management token", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dev_writes_no_key_ring_into_its_home_directory()
    {
        // ASP.NET Core's authentication brings its data protection, whose default keeps an unencrypted
        // key ring under ~/.aspnet, made at start. Coffer protects nothing with it: no such key on disk.
        var home = Directory.CreateTempSubdirectory("coffer-dev-home-").FullName;
        try
        {
            await using (var dev = await DevProcess.StartAsync(new Dictionary<string, string?> { ["HOME"] = home }))
            {
                var xks = new XksClient(new Uri(dev.Info.XksBaseUrl), dev.Info.AccessKeyId, dev.Info.SecretAccessKey);
                await xks.MustEncryptAsync(dev.Info.KeyId, "a data key"u8.ToArray());
            }

            var written = Directory.EnumerateFileSystemEntries(home, "*", SearchOption.AllDirectories)
                .Where(path => path.Contains(".aspnet", StringComparison.Ordinal) || path.Contains("DataProtection", StringComparison.Ordinal))
                .ToList();
            Assert.Empty(written);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }
}
