using Coffer.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>An audit store that cannot be written, for a moment: another connection holds the node's
/// SQLite file under its exclusive lock, so every audit batch meanwhile fails (503 DependencyTimeoutException).</summary>
internal static class AuditStoreLock
{
    /// <summary>Runs <paramref name="call"/> while the lock is held, then lets go.</summary>
    public static async Task<XksResponse> WhileLockedAsync(DevServer node, Func<Task<XksResponse>> call)
    {
        await using var locker = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(node.DataDirectory, "coffer.db")};Pooling=False");
        await locker.OpenAsync();
        await using (var exclusive = locker.CreateCommand())
        {
            exclusive.CommandText = "BEGIN EXCLUSIVE";
            await exclusive.ExecuteNonQueryAsync();
        }

        var response = await call();
        await using var rollback = locker.CreateCommand();
        rollback.CommandText = "ROLLBACK";
        await rollback.ExecuteNonQueryAsync();
        return response;
    }
}
