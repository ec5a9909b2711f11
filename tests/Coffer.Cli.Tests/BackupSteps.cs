using System.Text.Json.Nodes;
using Coffer.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Coffer.Cli.Tests;

/// <summary>The steps the backup tests share: CLI runs that must succeed, and a key's destruction.</summary>
internal static class BackupSteps
{
    /// <summary>A node's clock that the tests move on past a destruction's waiting period.</summary>
    public static FakeTimeProvider NewClock() => new(new DateTimeOffset(2026, 11, 28, 8, 0, 0, TimeSpan.Zero));

    public static async Task<CliResult> MustAsync(DevServer node, params string[] args)
    {
        var result = await Cli.RunAsync(node, args);
        Assert.True(result.ExitCode == 0, $"coffer {string.Join(' ', args)}: {result}");
        return result;
    }

    public static async Task<string?> StatusAsync(DevServer node, string keyId) =>
        (string?)JsonNode.Parse(await node.Admin.GetStringAsync($"/api/v1/keys/{keyId}"))!["status"];

    /// <summary>Schedules the key's destruction, moves the clock past its waiting period and waits for
    /// the sweeper's last record of it, so an export made next holds the whole destruction.</summary>
    public static async Task DestroyAsync(DevServer node, FakeTimeProvider time, string keyName)
    {
        await MustAsync(node, "key", "schedule-destruction", keyName, "--waiting-days", "7");
        time.Advance(TimeSpan.FromDays(7) + TimeSpan.FromMinutes(2));
        // The key's own record comes after its tombstone.
        await Wait.UntilAsync(async () => (await Cli.RunAsync(node, "audit", "list", "--action", "key.destroy", "--outcome", "ok", "--json")).Json.GetProperty("records").GetArrayLength() == 1,
            "the sweeper to destroy the key");
    }
}
