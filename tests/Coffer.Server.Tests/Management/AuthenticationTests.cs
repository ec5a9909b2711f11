using System.Net;
using System.Security.Cryptography;
using Coffer.Auth;
using Coffer.Testing;
using Microsoft.Data.Sqlite;

namespace Coffer.Server.Tests.Management;

/// <summary>Bearer-token authentication of the management API (docs/design.md, "Shape").</summary>
public sealed class AuthenticationTests(SharedNode shared) : IClassFixture<SharedNode>
{
    private DevServer Node => shared.Node;

    /// <summary>Every route that needs a token, with a method and a body that would otherwise be valid.</summary>
    public static TheoryData<string, string> SecuredRoutes => new()
    {
        { "GET", "/api/v1/keystores" },
        { "POST", "/api/v1/keystores" },
        { "GET", "/api/v1/keystores/ks_x" },
        { "DELETE", "/api/v1/keystores/ks_x" },
        { "GET", "/api/v1/keystores/ks_x/credentials" },
        { "POST", "/api/v1/keystores/ks_x/credentials" },
        { "DELETE", "/api/v1/keystores/ks_x/credentials/cred_x" },
        { "GET", "/api/v1/keystores/ks_x/credentials/cred_x/aws-config" },
        { "POST", "/api/v1/keystores/ks_x/keys" },
        { "GET", "/api/v1/keys" },
        { "GET", "/api/v1/keys/key_x" },
        { "POST", "/api/v1/keys/key_x/enable" },
        { "POST", "/api/v1/keys/key_x/disable" },
        { "POST", "/api/v1/sys/seal" },
    };

    public static TheoryData<string?> BadAuthorizations => new()
    {
        null,
        "Bearer ",
        "Bearer coffer_not-a-real-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "Basic YWRtaW46YWRtaW4=",
        "Bearer " + new string('a', 600),
    };

    [Theory]
    [MemberData(nameof(SecuredRoutes))]
    public async Task Secured_route_without_a_token_is_a_401_problem(string method, string path)
    {
        using var http = ManagementApi.ClientWith(Node, null);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = new StringContent("{\"name\":\"x\",\"uriPrefix\":\"/x\"}", System.Text.Encoding.UTF8, "application/json");
        }

        using var response = await http.SendAsync(request);
        await response.ProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
    }

    [Theory]
    [MemberData(nameof(BadAuthorizations))]
    public async Task Missing_wrong_or_malformed_token_is_a_401_problem(string? authorization)
    {
        using var http = ManagementApi.ClientWith(Node, authorization);
        using var response = await http.GetAsync("/api/v1/keystores");
        await response.ProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Malformed_body_without_a_token_is_a_401_not_a_parse_error()
    {
        // Authenticate before reading what an unauthenticated caller sent.
        using var http = ManagementApi.ClientWith(Node, null);
        using var response = await http.PostRawAsync("/api/v1/keystores", "{\"name\": ");
        await response.ProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Admin_token_is_accepted_and_the_scheme_is_case_insensitive()
    {
        using var http = ManagementApi.ClientWith(Node, "bearer " + Node.Info.AdminToken);
        using var response = await http.GetAsync("/api/v1/keystores");
        await response.JsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Token_with_a_changed_character_is_a_401_problem()
    {
        var token = Node.Info.AdminToken;
        var changed = token[..^1] + (token[^1] == 'A' ? 'B' : 'A');
        using var http = ManagementApi.ClientWith(Node, "Bearer " + changed);
        using var response = await http.GetAsync("/api/v1/keystores");
        await response.ProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Revoked_token_is_a_401_problem_at_once()
    {
        // There is no token API yet, so the token is added to (and revoked in) the database directly;
        // the server looks tokens up per request, so a revocation needs no restart.
        var token = "coffer_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var id = "tok_" + Guid.NewGuid().ToString("N")[..16];
        await ExecuteAsync(
            "INSERT INTO api_tokens (id, name, hash, role, created_at, expires_at, revoked_at) VALUES ($id, 'test', $hash, $role, $now, NULL, NULL)",
            ("$id", id), ("$hash", ApiTokenHash.Of(token)), ("$role", Roles.Administrator), ("$now", Now()));
        using var http = ManagementApi.ClientWith(Node, "Bearer " + token);

        using (var live = await http.GetAsync("/api/v1/keystores"))
        {
            await live.JsonAsync(HttpStatusCode.OK);
        }

        await ExecuteAsync("UPDATE api_tokens SET revoked_at = $now WHERE id = $id", ("$id", id), ("$now", Now()));
        using var revoked = await http.GetAsync("/api/v1/keystores");
        await revoked.ProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Expired_token_is_a_401_problem()
    {
        var token = "coffer_expired_" + Guid.NewGuid().ToString("N");
        await ExecuteAsync(
            "INSERT INTO api_tokens (id, name, hash, role, created_at, expires_at, revoked_at) VALUES ($id, 'expired', $hash, $role, $now, $expired, NULL)",
            ("$id", "tok_" + Guid.NewGuid().ToString("N")[..16]), ("$hash", ApiTokenHash.Of(token)), ("$role", Roles.Administrator),
            ("$now", Now()), ("$expired", DateTimeOffset.UtcNow.AddMinutes(-1).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture)));
        using var http = ManagementApi.ClientWith(Node, "Bearer " + token);
        using var response = await http.GetAsync("/api/v1/keystores");
        await response.ProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Status_needs_no_token_and_shows_the_key_store_count_only_with_one()
    {
        using var anonymous = ManagementApi.ClientWith(Node, null);
        var open = await (await anonymous.GetAsync("/api/v1/sys/status")).JsonAsync(HttpStatusCode.OK);
        Assert.False((bool)open["sealed"]!);
        Assert.True((bool)open["initialized"]!);
        Assert.Equal("dev", (string?)open["sealKind"]);
        Assert.False(string.IsNullOrEmpty((string?)open["version"]));
        Assert.Null(open["keyStoreCount"]);

        using var wrong = ManagementApi.ClientWith(Node, "Bearer coffer_wrong");
        var withWrongToken = await (await wrong.GetAsync("/api/v1/sys/status")).JsonAsync(HttpStatusCode.OK);
        Assert.Null(withWrongToken["keyStoreCount"]);

        var stores = (await shared.Admin.GetJsonAsync("/api/v1/keystores")).AsArray().Count;
        var authenticated = await shared.Admin.GetJsonAsync("/api/v1/sys/status");
        Assert.Equal(stores, (int?)authenticated["keyStoreCount"]);
        Assert.True(stores >= 1);
    }

    [Fact]
    public async Task Health_and_OpenAPI_need_no_token()
    {
        using var anonymous = ManagementApi.ClientWith(Node, null);
        using var health = await anonymous.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using var ready = await anonymous.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var openApi = await anonymous.GetAsync("/api/v1/openapi.json");
        Assert.Equal(HttpStatusCode.OK, openApi.StatusCode);
    }

    private static string Now() =>
        DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private async Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(Node.DataDirectory, "coffer.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA busy_timeout = 10000; " + sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }
}
