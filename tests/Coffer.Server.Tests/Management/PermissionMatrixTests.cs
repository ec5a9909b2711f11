using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Coffer.Testing;

namespace Coffer.Server.Tests.Management;

/// <summary>
/// The permission matrix: for each role and each management endpoint, the expected allow or
/// deny, through the real server. The table below is the specification; a test fails when the
/// server's OpenAPI document has an endpoint the table does not name, so no endpoint goes unjudged.
/// </summary>
public sealed class PermissionMatrixTests(PermissionMatrixTests.Node fixture) : IClassFixture<PermissionMatrixTests.Node>
{
    private const string Anonymous = "anonymous";

    /// <summary>Any valid token, whatever its roles.</summary>
    private const string AnyToken = "any token";

    // What each role may do (docs/users.md). administrator may do everything.
    private static readonly Dictionary<string, string[]> Grants = new()
    {
        ["key-officer"] =
        [
            "keystores.read", "keystores.write", "credentials.read", "credentials.write", "keys.read", "keys.write", "keys.destroy", "killswitch.read",
            "policies.read", "policies.write", "approvals.read", "approvals.write", "quorum.read",
        ],
        ["approver"] = ["keystores.read", "keys.read", "credentials.read", "killswitch.read", "policies.read", "approvals.read", "approvals.vote", "quorum.read"],
        ["auditor"] = ["keystores.read", "credentials.read", "keys.read", "audit.read", "killswitch.read", "tokens.read", "metrics.read", "alerts.read", "policies.read", "identities.read", "approvals.read", "quorum.read"],
        ["operator"] = ["keystores.read", "keys.read", "killswitch.read", "killswitch.write", "seal", "metrics.read", "approvals.read", "approvals.write", "quorum.read"],
    };

    // Every management endpoint and the permission it needs.
    public static readonly (string Method, string Path, string Permission)[] Endpoints =
    [
        ("GET", "/api/v1/sys/status", Anonymous),
        ("POST", "/api/v1/sys/init", Anonymous),
        ("POST", "/api/v1/sys/unseal", Anonymous),
        ("POST", "/api/v1/sys/seal", "seal"),
        ("GET", "/api/v1/sys/whoami", AnyToken),
        ("POST", "/api/v1/session", Anonymous),
        ("GET", "/api/v1/session", Anonymous),
        ("DELETE", "/api/v1/session", Anonymous),
        ("GET", "/api/v1/session/oidc", Anonymous),
        ("GET", "/api/v1/session/oidc/start", Anonymous),
        ("GET", "/api/v1/session/oidc/callback", Anonymous),
        ("GET", "/api/v1/traffic", "metrics.read"),
        ("GET", "/api/v1/sys/resplit", Anonymous),
        ("POST", "/api/v1/sys/resplit", "master-key"),
        ("POST", "/api/v1/sys/resplit/share", Anonymous),
        ("DELETE", "/api/v1/sys/resplit", "master-key"),
        ("GET", "/api/v1/sys/rekey", "master-key"),
        ("POST", "/api/v1/sys/rekey", "master-key"),
        ("GET", "/api/v1/keystores", "keystores.read"),
        ("POST", "/api/v1/keystores", "keystores.write"),
        ("GET", "/api/v1/keystores/{id}", "keystores.read"),
        ("DELETE", "/api/v1/keystores/{id}", "keystores.write"),
        ("GET", "/api/v1/keystores/{id}/credentials", "credentials.read"),
        ("POST", "/api/v1/keystores/{id}/credentials", "credentials.write"),
        ("DELETE", "/api/v1/keystores/{id}/credentials/{credentialId}", "credentials.write"),
        ("GET", "/api/v1/keystores/{id}/credentials/{credentialId}/aws-config", "credentials.write"),
        ("POST", "/api/v1/keystores/{id}/keys", "keys.write"),
        ("GET", "/api/v1/keys", "keys.read"),
        ("GET", "/api/v1/keys/{keyId}", "keys.read"),
        ("GET", "/api/v1/keys/attention", "keys.read"),
        ("POST", "/api/v1/keys/{keyId}/enable", "keys.write"),
        ("POST", "/api/v1/keys/{keyId}/disable", "keys.write"),
        ("POST", "/api/v1/keys/{keyId}/rotate", "keys.write"),
        ("POST", "/api/v1/keys/{keyId}/versions/{version}/activate", "keys.write"),
        ("POST", "/api/v1/keys/{keyId}/versions/{version}/deactivate", "keys.write"),
        ("POST", "/api/v1/keys/{keyId}/versions/{version}/compromise", "keys.write"),
        ("POST", "/api/v1/keys/{keyId}/versions/{version}/schedule-destruction", "keys.destroy"),
        ("POST", "/api/v1/keys/{keyId}/versions/{version}/cancel-destruction", "keys.write"),
        ("PUT", "/api/v1/keys/{keyId}/compromised-may-decrypt", "keys.write"),
        ("PUT", "/api/v1/keys/{keyId}/versions/{version}/dates", "keys.write"),
        ("GET", "/api/v1/keys/{keyId}/rotation-policy", "keys.read"),
        ("PUT", "/api/v1/keys/{keyId}/rotation-policy", "keys.write"),
        ("DELETE", "/api/v1/keys/{keyId}/rotation-policy", "keys.write"),
        ("GET", "/api/v1/keystores/{id}/rotation-policy", "keystores.read"),
        ("PUT", "/api/v1/keystores/{id}/rotation-policy", "keystores.write"),
        ("DELETE", "/api/v1/keystores/{id}/rotation-policy", "keystores.write"),
        ("POST", "/api/v1/keys/{keyId}/schedule-destruction", "keys.destroy"),
        ("POST", "/api/v1/keys/{keyId}/cancel-destruction", "keys.write"),
        ("POST", "/api/v1/keys/rotate", "keys.write"),
        ("GET", "/api/v1/audit/verify", "audit.read"),
        ("GET", "/api/v1/audit/records", "audit.read"),
        ("GET", "/api/v1/audit/report", "audit.read"),
        ("GET", "/api/v1/audit/export", "audit.read"),
        ("GET", "/api/v1/audit/sinks", "audit.read"),
        ("POST", "/api/v1/audit/archives", "audit.archive"),
        ("GET", "/api/v1/audit/archives", "audit.read"),
        ("GET", "/api/v1/audit/archives/{throughSequence}/file", "audit.read"),
        ("POST", "/api/v1/kill-switches", "killswitch.write"),
        ("GET", "/api/v1/kill-switches", "killswitch.read"),
        ("POST", "/api/v1/kill-switches/{id}/release", "killswitch.write"),
        ("POST", "/api/v1/tokens", "tokens.write"),
        ("GET", "/api/v1/tokens", "tokens.read"),
        ("DELETE", "/api/v1/tokens/{id}", "tokens.write"),
        ("POST", "/api/v1/users", "identities.write"),
        ("GET", "/api/v1/users", "identities.read"),
        ("GET", "/api/v1/users/{id}", "identities.read"),
        ("PUT", "/api/v1/users/{id}", "identities.write"),
        ("POST", "/api/v1/users/{id}/disable", "identities.write"),
        ("POST", "/api/v1/apps", "identities.write"),
        ("GET", "/api/v1/apps", "identities.read"),
        ("GET", "/api/v1/apps/{id}", "identities.read"),
        ("PUT", "/api/v1/apps/{id}", "identities.write"),
        ("POST", "/api/v1/apps/{id}/disable", "identities.write"),
        ("GET", "/api/v1/roles", "identities.read"),
        ("GET", "/api/v1/roles/{name}", "identities.read"),
        ("PUT", "/api/v1/roles/{name}", "identities.write"),
        ("DELETE", "/api/v1/roles/{name}", "identities.write"),
        ("POST", "/api/v1/alerts/webhooks", "alerts.write"),
        ("GET", "/api/v1/alerts/webhooks", "alerts.read"),
        ("DELETE", "/api/v1/alerts/webhooks/{webhookId}", "alerts.write"),
        ("GET", "/api/v1/alerts/deliveries", "alerts.read"),
        ("PUT", "/api/v1/keystores/{id}/policy", "policies.write"),
        ("GET", "/api/v1/keystores/{id}/policy", "policies.read"),
        ("GET", "/api/v1/keystores/{id}/policy/versions", "policies.read"),
        ("DELETE", "/api/v1/keystores/{id}/policy", "policies.write"),
        ("PUT", "/api/v1/keys/{keyId}/policy", "policies.write"),
        ("GET", "/api/v1/keys/{keyId}/policy", "policies.read"),
        ("GET", "/api/v1/keys/{keyId}/policy/versions", "policies.read"),
        ("DELETE", "/api/v1/keys/{keyId}/policy", "policies.write"),
        ("POST", "/api/v1/policy/simulate", "policies.read"),
        ("GET", "/api/v1/region-sets", "policies.read"),
        ("GET", "/api/v1/region-sets/{name}", "policies.read"),
        ("PUT", "/api/v1/region-sets/{name}", "policies.write"),
        ("DELETE", "/api/v1/region-sets/{name}", "policies.write"),
        ("GET", "/api/v1/quorum-policies", "quorum.read"),
        ("GET", "/api/v1/quorum-policies/{name}", "quorum.read"),
        ("PUT", "/api/v1/quorum-policies/{name}", "quorum.write"),
        ("DELETE", "/api/v1/quorum-policies/{name}", "quorum.write"),
        ("GET", "/api/v1/approvals", "approvals.read"),
        ("GET", "/api/v1/approvals/{approvalId}", "approvals.read"),
        ("POST", "/api/v1/approvals/{approvalId}/approve", "approvals.vote"),
        ("POST", "/api/v1/approvals/{approvalId}/deny", "approvals.vote"),
        ("POST", "/api/v1/approvals/{approvalId}/cancel", "approvals.write"),
        ("POST", "/api/v1/approvals/{approvalId}/result", "approvals.write"),
        ("POST", "/api/v1/backup", "administrator"),
    ];

    public static TheoryData<string> RoleNames => ["administrator", "key-officer", "approver", "auditor", "operator"];

    [Fact]
    public async Task Every_endpoint_of_the_API_is_in_the_matrix()
    {
        var document = await fixture.Server.Admin.GetJsonAsync("/api/v1/openapi.json");
        var served = document["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Select(op => (op.Key.ToUpperInvariant(), p.Key)))
            .ToHashSet();

        var known = Endpoints.Select(e => (e.Method, e.Path)).ToHashSet();
        Assert.Empty(served.Except(known));
        Assert.Empty(known.Except(served));

        // The document tells callers what each operation needs, as the matrix says.
        foreach (var (method, path, permission) in Endpoints)
        {
            var summary = (string?)document["paths"]![path]![method.ToLowerInvariant()]!["summary"];
            var needs = permission switch { Anonymous => "none, no token", AnyToken => "none, any valid token", _ => permission };
            Assert.EndsWith($"(permission: {needs})", summary);
        }
    }

    [Fact]
    public async Task The_document_names_the_bearer_scheme_on_every_operation_that_needs_a_token_and_on_no_other()
    {
        var document = await fixture.Server.Admin.GetJsonAsync("/api/v1/openapi.json");

        var scheme = document["components"]?["securitySchemes"]?["bearer"];
        Assert.NotNull(scheme);
        Assert.Equal(("http", "bearer"), ((string?)scheme["type"], (string?)scheme["scheme"]));
        foreach (var (method, path, permission) in Endpoints)
        {
            var security = document["paths"]![path]![method.ToLowerInvariant()]!["security"];
            if (permission == Anonymous)
            {
                Assert.True(security is null, $"{method} {path} needs no token, yet names {security?.ToJsonString()}");
            }
            else
            {
                var requirement = Assert.Single(security?.AsArray() ?? []);
                Assert.Equal(["bearer"], requirement!.AsObject().Select(r => r.Key));
            }
        }
    }

    [Theory]
    [MemberData(nameof(RoleNames))]
    public async Task Each_role_reaches_exactly_the_endpoints_its_permissions_allow(string role)
    {
        using var http = ManagementApi.ClientWith(fixture.Server, "Bearer " + await fixture.TokenAsync(role));
        var wrong = new List<string>();
        foreach (var (method, path, permission) in Endpoints)
        {
            var allowed = permission is Anonymous or AnyToken || role == "administrator" || Grants[role].Contains(permission);
            if (allowed && (path.EndsWith("/seal", StringComparison.Ordinal) || path.EndsWith("/init", StringComparison.Ordinal) || path.EndsWith("/unseal", StringComparison.Ordinal)
                || (method == "POST" && path.EndsWith("/rekey", StringComparison.Ordinal))))
            {
                continue; // carrying these out would change the node the other roles are checked on
            }

            using var request = new HttpRequestMessage(new HttpMethod(method), Fill(path));
            if (method is "POST" or "PUT")
            {
                request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
            }

            using var response = await http.SendAsync(request);
            var status = (int)response.StatusCode;
            if (allowed ? status is 401 or 403 : status != 403)
            {
                wrong.Add($"{method} {path} ({permission}): {status}, expected {(allowed ? "not 401/403" : "403")}");
            }
        }

        Assert.True(wrong.Count == 0, role + ":\n" + string.Join('\n', wrong));
    }

    [Fact]
    public async Task A_denial_names_the_permission_and_is_an_audit_record()
    {
        var token = await fixture.TokenAsync("auditor");
        using var http = ManagementApi.ClientWith(fixture.Server, "Bearer " + token);

        using var response = await http.PostJsonAsync("/api/v1/kill-switches", new { scope = "all", reason = "try" });
        var problem = await response.ProblemAsync(HttpStatusCode.Forbidden);

        Assert.Contains("killswitch.write", (string)problem["detail"]!, StringComparison.Ordinal);
        Assert.Contains("auditor", (string)problem["detail"]!, StringComparison.Ordinal);
        Assert.Empty((await fixture.Server.Admin.GetJsonAsync("/api/v1/kill-switches")).AsArray());
        var records = (await fixture.Server.Admin.GetJsonAsync("/api/v1/audit/records?action=auth.denied"))["records"]!.AsArray();
        Assert.Contains(records, r => ((string?)r!["reason"])?.Contains("killswitch.write", StringComparison.Ordinal) == true
            && ((string?)r["details"])?.Contains("/api/v1/kill-switches", StringComparison.Ordinal) == true);
        Assert.DoesNotContain(records, r => r!.ToJsonString().Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Tokens_are_shown_once_and_the_last_administrator_token_cannot_be_revoked()
    {
        await using var node = await DevServer.StartAsync(); // its own: it revokes tokens
        var admin = node.Admin;
        using var created = await admin.PostJsonAsync("/api/v1/tokens", new { name = "second admin", role = "administrator", expiresInDays = 30 });
        var second = await created.JsonAsync(HttpStatusCode.Created);
        var secret = (string)second["token"]!;
        var list = await admin.GetJsonAsync("/api/v1/tokens");
        Assert.DoesNotContain(secret, list.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains(list.AsArray(), t => (string)t!["id"]! == (string)second["id"]! && t["expiresAt"] is not null);

        using var bad = await admin.PostJsonAsync("/api/v1/tokens", new { name = "x", role = "superuser" });
        Assert.Contains("Unknown role 'superuser'", (string)(await bad.ProblemAsync(HttpStatusCode.BadRequest))["detail"]!, StringComparison.Ordinal);

        // With two administrator tokens, either may go; the survivor is then the last and stays.
        using var secondClient = ManagementApi.ClientWith(node, "Bearer " + secret);
        using (var revokeSecond = await admin.DeleteAsync($"/api/v1/tokens/{(string)second["id"]!}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revokeSecond.StatusCode);
        }

        using var refused = await secondClient.GetAsync("/api/v1/keystores");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        var root = (await admin.GetJsonAsync("/api/v1/tokens")).AsArray()
            .Single(t => (string)t!["role"]! == "administrator" && t["revokedAt"] is null)!;
        using var last = await admin.DeleteAsync($"/api/v1/tokens/{(string)root["id"]!}");
        Assert.Contains("no administrator able to manage Coffer", (string)(await last.ProblemAsync(HttpStatusCode.Conflict))["detail"]!, StringComparison.Ordinal);
    }

    private static string Fill(string path) => path
        .Replace("/keystores/{id}", "/keystores/ks_nosuchstore", StringComparison.Ordinal)
        .Replace("/kill-switches/{id}", "/kill-switches/kill_nosuchswitch", StringComparison.Ordinal)
        .Replace("/tokens/{id}", "/tokens/tok_nosuchtoken", StringComparison.Ordinal)
        .Replace("/users/{id}", "/users/usr_nosuchuser", StringComparison.Ordinal)
        .Replace("/apps/{id}", "/apps/app_nosuchapp", StringComparison.Ordinal)
        .Replace("{keyId}", "key_nosuchkey", StringComparison.Ordinal)
        .Replace("{version}", "1", StringComparison.Ordinal)
        .Replace("{credentialId}", "cred_nosuch", StringComparison.Ordinal)
        .Replace("{throughSequence}", "999999", StringComparison.Ordinal)
        .Replace("{webhookId}", "whk_nosuchhook", StringComparison.Ordinal)
        .Replace("{approvalId}", "apr_nosuchrequest", StringComparison.Ordinal)
        .Replace("{name}", "no-such-set", StringComparison.Ordinal);

    /// <summary>One dev node with a token per role, made through the API by the root token.</summary>
    public sealed class Node : IAsyncLifetime
    {
        private readonly Dictionary<string, string> _tokens = [];

        public DevServer Server { get; private set; } = null!;

        public async Task InitializeAsync() => Server = await DevServer.StartAsync();

        public async Task DisposeAsync() => await Server.DisposeAsync();

        public async Task<string> TokenAsync(string role)
        {
            if (!_tokens.TryGetValue(role, out var token))
            {
                using var response = await Server.Admin.PostJsonAsync("/api/v1/tokens", new { name = role + " for the matrix", role });
                token = (string)(await response.JsonAsync(HttpStatusCode.Created))["token"]!;
                _tokens[role] = token;
            }

            return token;
        }
    }
}
