using Coffer.Audit;
using Coffer.Server.Audit;
using Coffer.Server.Xks.Anonymous;
using Coffer.Storage;
using Coffer.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>The tally table's bound: beyond <see cref="AnonymousFailures.MaxKeys"/> distinct keys in one
/// interval, requests are counted in one overflow record (a real SQLite audit log underneath).</summary>
public sealed class AnonymousFailuresTests
{
    [Fact]
    public async Task Beyond_the_cap_on_distinct_tallies_requests_are_counted_in_one_overflow_record()
    {
        var directory = Directory.CreateTempSubdirectory("coffer-anonymous-");
        try
        {
            using var storage = await SqliteStorage.OpenAsync(Path.Combine(directory.FullName, "coffer.db"));
            await using (var log = await AuditLog.StartAsync(storage.Audit, "node", TimeProvider.System, NullLogger<AuditLog>.Instance))
            {
                var failures = new AnonymousFailures(log, new FakeTimeProvider(), NullLogger<AnonymousFailures>.Instance);
                static AnonymousFailureKey From(int i) => new($"10.0.{i / 256}.{i % 256}", null, AuditOutcome.Error, "InvalidUriPathException", AnonymousReasons.UnknownPrefix);
                for (var i = 0; i < AnonymousFailures.MaxKeys + 10; i++)
                {
                    failures.Count(From(i), "POST", "/x/kms/xks/v1/health");
                }

                failures.Count(From(0), "POST", "/x/kms/xks/v1/health");
                await failures.DisposeAsync();
            }

            var records = new List<AuditRecord>();
            long? before = null;
            do
            {
                var page = await storage.Audit.QueryAsync(new AuditQuery { Before = before, Limit = 500 });
                records.AddRange(page.Records);
                before = page.Next;
            }
            while (before is not null);

            Assert.Equal(AnonymousFailures.MaxKeys + 1, records.Count);
            var overflow = Assert.Single(records, r => r.Event.Reason == AnonymousFailures.OverflowReason).Event;
            Assert.Null(overflow.SourceIp);
            Assert.StartsWith("count=10 ", overflow.Details, StringComparison.Ordinal);
            Assert.StartsWith("count=2 ", Assert.Single(records, r => r.Event.SourceIp == "10.0.0.0").Event.Details, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
