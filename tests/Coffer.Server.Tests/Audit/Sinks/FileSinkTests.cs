using System.Text.Json.Nodes;
using Coffer.Server.Hosting;
using Coffer.Server.Tests.Xks;
using Coffer.Testing;
using Microsoft.Data.Sqlite;

namespace Coffer.Server.Tests.Audit.Sinks;

/// <summary>The JSON-lines file sink: the export's lines, fsync'd per batch, mode 0600,
/// rotated by size keeping N files, and continued without a gap or a repeat after a restart.</summary>
public sealed class FileSinkTests
{
    private static Action<CofferOptions> FileSink(Action<FileSinkOptions>? more = null) => options =>
    {
        options.Audit.File = new FileSinkOptions { Enabled = true, MaxRetryDelaySeconds = 1 };
        more?.Invoke(options.Audit.File);
    };

    private static List<long> Sequences(IEnumerable<string> lines) => [.. lines.Select(l => (long)JsonNode.Parse(l)!["sequence"]!)];

    private static string[] Lines(string path) => File.ReadAllText(path).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Records_are_appended_as_the_export_lines_to_an_owner_only_file()
    {
        await using var node = await DevServer.StartAsync(FileSink());
        XksAssert.Ok(await XksClient.For(node).EncryptAsync(node.Info.KeyId, [1]));

        var head = await node.Admin.WaitCaughtUpAsync("file");
        var path = Path.Combine(node.DataDirectory, "audit.jsonl");
        var export = await node.Admin.ExportAsync();
        var text = await File.ReadAllTextAsync(path);

        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        var lines = Lines(path);
        Assert.Equal(Enumerable.Range(1, (int)head).Select(i => (long)i), Sequences(lines));
        Assert.Equal(export.OrderBy(e => e.Key).Select(e => e.Value), lines);
        Assert.Contains(lines, l => (string?)JsonNode.Parse(l)!["action"] == "xks.encrypt");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(path, (string)(await node.Admin.SinkAsync("file"))["target"]!);
    }

    [Fact]
    public async Task Rotation_at_the_size_limit_keeps_N_files_that_together_end_at_the_head()
    {
        var directory = Directory.CreateTempSubdirectory("coffer-sink-").FullName;
        var path = Path.Combine(directory, "logs", "audit.jsonl");
        try
        {
            await using var node = await DevServer.StartAsync(FileSink(f => (f.Path, f.MaxFileBytes, f.KeepFiles, f.BatchSize) = (path, 2048, 2, 1)));
            var xks = XksClient.For(node);
            for (var i = 0; i < 12; i++)
            {
                XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, [(byte)i]));
            }

            var head = await node.Admin.WaitCaughtUpAsync("file");

            Assert.True(File.Exists(path + ".1") && File.Exists(path + ".2"));
            Assert.False(File.Exists(path + ".3"));
            Assert.All(new[] { path, path + ".1", path + ".2" }, f => Assert.InRange(new FileInfo(f).Length, 1, 2048));
            var kept = Sequences(Lines(path + ".2").Concat(Lines(path + ".1")).Concat(Lines(path)));
            Assert.Equal(head, kept[^1]);
            Assert.Equal(Enumerable.Range((int)kept[0], kept.Count).Select(i => (long)i), kept);
            Assert.True(kept[0] > 1, "the oldest rotated files were deleted");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task After_a_restart_the_file_continues_without_gaps_even_from_a_torn_line_and_an_old_cursor()
    {
        var node = await DevServer.StartAsync(FileSink());
        try
        {
            var path = Path.Combine(node.DataDirectory, "audit.jsonl");
            var database = Path.Combine(node.DataDirectory, "coffer.db");
            var first = await node.Admin.WaitCaughtUpAsync("file");

            // As after a crash: the last batch half-written and its cursor never saved.
            node = await node.RestartAsync(_ =>
            {
                File.AppendAllText(path, "{\"sequence\":");
                using var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Pooling = false }.ToString());
                db.Open();
                using var rewind = db.CreateCommand();
                rewind.CommandText = "UPDATE settings SET value = '2' WHERE name = 'audit.sink.file.cursor'";
                Assert.Equal(1, rewind.ExecuteNonQuery());
            });
            XksAssert.Ok(await XksClient.For(node).EncryptAsync(node.Info.KeyId, [1]));
            var head = await node.Admin.WaitCaughtUpAsync("file");

            Assert.True(head > first);
            Assert.Equal(Enumerable.Range(1, (int)head).Select(i => (long)i), Sequences(Lines(path)));
        }
        finally
        {
            await node.DisposeAsync();
        }
    }
}
