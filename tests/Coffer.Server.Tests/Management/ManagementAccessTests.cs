using System.Net;
using Coffer.Audit;
using Coffer.Auth;
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

namespace Coffer.Server.Tests.Management;

/// <summary>
/// The management access rules on their own, in a bare host with nothing of Coffer's but
/// <see cref="ManagementAccess"/>: the routes below are guarded by the framework's authorization
/// middleware with the policies that <c>RequirePermission</c>, <c>RequireAnyCaller</c> and the fallback
/// make, so a new endpoint gets them just by declaring its permission.
/// </summary>
public sealed class ManagementAccessTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("coffer-access-").FullName;
    private CofferStorage _storage = null!;
    private AuditLog _audit = null!;
    private WebApplication _app = null!;

    public async Task InitializeAsync()
    {
        _storage = await SqliteStorage.OpenAsync(Path.Combine(_directory, "coffer.db"));
        _audit = await AuditLog.StartAsync(_storage.Audit, "node", TimeProvider.System, NullLogger<AuditLog>.Instance);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<ICofferStorage>(_storage);
        builder.Services.AddSingleton(_audit);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(new Coffer.Server.WebConsole.ConsoleSessions(_storage, TimeProvider.System, secure: false));
        builder.Services.AddManagementAccess();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.UseRouting();
        _app.UseManagementAccess();

        // A group declares keys.write; one of its endpoints declares keys.read instead.
        var keys = _app.MapGroup("/keys").RequirePermission(Permissions.KeysWrite);
        keys.MapGet("", () => "listed").RequirePermission(Permissions.KeysRead);
        keys.MapPost("", () => "changed");
        _app.MapGet("/undeclared", () => "administrators only");
        _app.MapGet("/me", (HttpContext http) => TokenAuthentication.CallerOf(http)!.Name).RequireAnyCaller();
        _app.MapGet("/open", (HttpContext http) => TokenAuthentication.CallerOf(http)?.Name ?? "nobody").AllowAnonymous();
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _audit.DisposeAsync();
        _storage.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task An_endpoints_permission_replaces_its_groups_and_is_enforced_by_the_policy()
    {
        using var auditor = await ClientAsync(Roles.Auditor);

        Assert.Equal("listed", await auditor.GetStringAsync("/keys"));
        using var change = await auditor.PostAsync("/keys", null);
        var problem = await change.ProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("keys.write", (string)problem["detail"]!, StringComparison.Ordinal);

        var denial = Assert.Single(await RecordsAsync(AuditActions.AuthDenied));
        Assert.Equal(("needs keys.write (roles auditor)", "POST /keys"), (denial.Reason, denial.Details));
    }

    [Fact]
    public async Task An_endpoint_that_declares_nothing_is_for_administrators_only()
    {
        using var auditor = await ClientAsync(Roles.Auditor);
        using var administrator = await ClientAsync(Roles.Administrator);

        using var refused = await auditor.GetAsync("/undeclared");
        Assert.Contains("(administrator)", (string)(await refused.ProblemAsync(HttpStatusCode.Forbidden))["detail"]!, StringComparison.Ordinal);
        Assert.Equal("administrators only", await administrator.GetStringAsync("/undeclared"));
    }

    [Fact]
    public async Task Any_caller_endpoints_need_a_token_and_anonymous_ones_none()
    {
        using var auditor = await ClientAsync(Roles.Auditor);
        using var nobody = new HttpClient { BaseAddress = new Uri(_app.Urls.First()) };

        Assert.Equal("auditor token", await auditor.GetStringAsync("/me"));
        using var refused = await nobody.GetAsync("/me");
        await refused.ProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains(refused.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        Assert.Equal("no bearer token", Assert.Single(await RecordsAsync(AuditActions.AuthFailed)).Reason);

        Assert.Equal("nobody", await nobody.GetStringAsync("/open"));
        Assert.Equal("auditor token", await auditor.GetStringAsync("/open"));
    }

    [Fact]
    public async Task An_unknown_path_is_a_404_whoever_asks()
    {
        using var auditor = await ClientAsync(Roles.Auditor);
        using var nobody = new HttpClient { BaseAddress = new Uri(_app.Urls.First()) };

        using var anonymous = await nobody.GetAsync("/nothing-here");
        using var known = await auditor.GetAsync("/nothing-here");

        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound), (anonymous.StatusCode, known.StatusCode));
        Assert.Empty(await RecordsAsync(AuditActions.AuthFailed));
    }

    /// <summary>A client with a new token of <paramref name="role"/>, stored as Coffer stores tokens (by hash).</summary>
    private async Task<HttpClient> ClientAsync(string role)
    {
        var token = "coffer_" + Guid.NewGuid().ToString("N");
        await _storage.System.AddTokenAsync(new ApiToken("tok_" + Guid.NewGuid().ToString("N")[..16], role + " token", ApiTokenHash.Of(token), role, DateTimeOffset.UtcNow, null, null));
        return ManagementApiClient(token);
    }

    private HttpClient ManagementApiClient(string token)
    {
        var http = new HttpClient { BaseAddress = new Uri(_app.Urls.First()) };
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + token);
        return http;
    }

    private async Task<IReadOnlyList<AuditEvent>> RecordsAsync(string action) =>
        [.. (await _storage.Audit.ReadChainAsync(1, 100)).Records.Select(r => r.Event).Where(e => e.Action == action)];
}
