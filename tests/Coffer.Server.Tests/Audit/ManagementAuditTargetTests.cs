using System.Net;
using Coffer.Audit;
using Coffer.Server.Audit;
using Coffer.Server.Management;
using Coffer.Storage;
using Coffer.Storage.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Coffer.Server.Tests.Audit;

/// <summary>The audit filter on its own: the ids of the path become the record's targets.</summary>
public sealed class ManagementAuditTargetTests
{
    [Fact]
    public async Task Key_store_key_and_version_in_the_path_are_recorded_before_and_after()
    {
        var directory = Directory.CreateTempSubdirectory("coffer-audit-filter-").FullName;
        try
        {
            using var storage = await SqliteStorage.OpenAsync(Path.Combine(directory, "coffer.db"));
            await using var log = await AuditLog.StartAsync(storage.Audit, "node", TimeProvider.System, NullLogger<AuditLog>.Instance);
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton(log);
            builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
            await using var app = builder.Build();
            app.MapPost("/keystores/{id}/keys/{keyId}/versions/{version:int}/deactivate", () => TypedResults.NoContent()).WithAuditAction("key.version.deactivate");
            await app.StartAsync();
            using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

            using var response = await http.PostAsync("/keystores/ks_1/keys/key_9/versions/3/deactivate", null);

            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            var records = (await storage.Audit.ReadChainAsync(1, 10)).Records;
            Assert.Equal([AuditOutcome.Requested, AuditOutcome.Ok], records.Select(r => r.Event.Outcome));
            Assert.All(records, r => Assert.Equal(("key.version.deactivate", "ks_1", "key_9", (int?)3, "anonymous"),
                (r.Event.Action, r.Event.KeyStore, r.Event.KeyId, r.Event.KeyVersion, r.Event.ActorKind)));
            Assert.Equal("POST /keystores/ks_1/keys/key_9/versions/3/deactivate -> 204", records[1].Event.Details);
            await app.StopAsync();
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }
}
