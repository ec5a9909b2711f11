using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Coffer.Server.Hosting;
using Coffer.Server.Tests.Approvals;
using Coffer.Server.Tests.Audit;
using Coffer.Server.Tests.Xks;
using Coffer.Testing;
using Coffer.Testing.Oidc;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;

namespace Coffer.Server.Tests.Management;

/// <summary>A node that accepts tokens of a <see cref="TestIssuer"/>, both on one fake clock.</summary>
public sealed class OidcNode : IAsyncLifetime
{
    public static readonly DateTimeOffset Start = new(2026, 11, 28, 9, 0, 0, TimeSpan.Zero);

    public FakeTimeProvider Time { get; } = new(Start);

    public TestIssuer Issuer { get; private set; } = null!;

    public DevServer Node { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Issuer = await TestIssuer.StartAsync(Time);
        Node = await DevServer.StartAsync(o => o.Oidc = Options(Issuer), time: Time);
    }

    /// <summary>coffer-admins are administrators, coffer-auditors auditors; other groups hold nothing.</summary>
    public static OidcOptions Options(TestIssuer issuer) => new()
    {
        Issuer = issuer.Issuer,
        Audience = TestIssuer.DefaultAudience,
        ClockSkewSeconds = 30,
        GroupRoles =
        [
            new OidcGroupRole { Group = "coffer-admins", Role = "administrator" },
            new OidcGroupRole { Group = "coffer-auditors", Role = "auditor" },
        ],
    };

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        await Issuer.DisposeAsync();
    }
}

/// <summary>Management login with identity-provider tokens: a real node over loopback checks
/// JWTs of a real issuer it fetches keys from.</summary>
public sealed class OidcLoginTests(OidcNode shared) : IClassFixture<OidcNode>
{
    private DevServer Node => shared.Node;

    private TestIssuer Issuer => shared.Issuer;

    private static HttpClient ClientWith(DevServer node, string token) => ManagementApi.ClientWith(node, "Bearer " + token);

    [Fact]
    public async Task Valid_token_is_a_user_caller_and_the_audit_actor_of_its_changes()
    {
        var token = Issuer.Token(new TokenSpec { Subject = "valid-subject" });
        using var http = ClientWith(Node, token);

        await (await http.GetAsync("/api/v1/keystores")).JsonAsync(HttpStatusCode.OK);
        var store = await http.CreateKeyStoreAsync();

        var created = (await Node.Admin.AllRecordsAsync("&action=keystore.create"))
            .Single(r => (string?)r["keyStore"] == (string?)store["id"] && (string?)r["outcome"] == "ok");
        Assert.Equal("user", (string?)created["actorKind"]);
        Assert.Equal("oidc:valid-subject", (string?)created["actorId"]);
    }

    [Fact]
    public async Task ES256_token_of_the_issuer_is_accepted()
    {
        using var http = ClientWith(Node, Issuer.Token(new TokenSpec { Algorithm = SecurityAlgorithms.EcdsaSha256 }));
        await (await http.GetAsync("/api/v1/keystores")).JsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_login_is_recorded_once_per_token_with_subject_and_groups_and_never_the_token()
    {
        var token = Issuer.Token(new TokenSpec { Subject = "login-subject", Groups = ["coffer-auditors", "other-team"] });
        using var http = ClientWith(Node, token);

        for (var i = 0; i < 3; i++)
        {
            await (await http.GetAsync("/api/v1/keystores")).JsonAsync(HttpStatusCode.OK);
        }

        var logins = (await Node.Admin.AllRecordsAsync("&action=auth.login")).Where(r => (string?)r["actorId"] == "oidc:login-subject").ToList();
        var login = Assert.Single(logins);
        Assert.Equal("ok", (string?)login["outcome"]);
        Assert.Equal("user", (string?)login["actorKind"]);
        Assert.Contains("subject login-subject", (string?)login["details"], StringComparison.Ordinal);
        Assert.Contains("groups (coffer-auditors, other-team)", (string?)login["details"], StringComparison.Ordinal);
        Assert.Contains("roles (auditor)", (string?)login["details"], StringComparison.Ordinal);
        AssertNowhere(token);
    }

    public static TheoryData<string, string> BadTokens => new()
    {
        { "wrong issuer", "wrong issuer" },
        { "wrong audience", "wrong audience" },
        { "signed by another key under a published key id", "bad signature" },
        { "signed by a key that is not in the JWKS", "unknown key" },
        { "alg none", "algorithm not allowed" },
        { "HS256 with the public key as secret", "algorithm not allowed" },
        { "no expiry", "no expiry" },
        { "three parts that are not a JWT", "malformed token" },
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task Bad_token_is_a_401_and_an_auth_failed_record_with_its_reason_and_without_the_token(string kind, string reason)
    {
        var token = kind switch
        {
            "wrong issuer" => Issuer.Token(new TokenSpec { Issuer = "https://idp.example.test" }),
            "wrong audience" => Issuer.Token(new TokenSpec { Audience = "api://someone-else" }),
            "signed by another key under a published key id" => Issuer.Token(new TokenSpec { Key = TestIssuer.NewRsaKey(Issuer.RsaKey.KeyId) }),
            "signed by a key that is not in the JWKS" => Issuer.Token(new TokenSpec { Key = TestIssuer.NewRsaKey("stranger-" + Guid.NewGuid().ToString("N")) }),
            "alg none" => Issuer.UnsignedToken(),
            "HS256 with the public key as secret" => Issuer.PublicKeyAsHmacSecretToken(),
            "no expiry" => NoExpiryToken(),
            "three parts that are not a JWT" => "bm90.anNvbg.c2ln",
            _ => throw new ArgumentException(kind),
        };

        var problem = await RefusedAsync(token, HttpStatusCode.Unauthorized);

        Assert.Contains(reason, (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Equal("oidc: " + reason, (string?)(await LastFailureAsync())["reason"]);
        AssertNowhere(token);
    }

    [Fact]
    public async Task Expired_token_is_refused_once_the_clock_passes_its_expiry_and_the_skew()
    {
        var token = Issuer.Token(new TokenSpec { ExpiresIn = TimeSpan.FromMinutes(5) });
        using var http = ClientWith(Node, token);
        await (await http.GetAsync("/api/v1/keystores")).JsonAsync(HttpStatusCode.OK);

        shared.Time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(29));
        await (await http.GetAsync("/api/v1/keystores")).JsonAsync(HttpStatusCode.OK);
        shared.Time.Advance(TimeSpan.FromSeconds(1));

        await RefusedAsync(token, HttpStatusCode.Unauthorized);
        Assert.Equal("oidc: expired", (string?)(await LastFailureAsync())["reason"]);
    }

    [Fact]
    public async Task Token_not_yet_valid_is_refused_until_the_clock_reaches_it()
    {
        var token = Issuer.Token(new TokenSpec { NotBeforeIn = TimeSpan.FromMinutes(2) });

        await RefusedAsync(token, HttpStatusCode.Unauthorized);
        Assert.Equal("oidc: not yet valid", (string?)(await LastFailureAsync())["reason"]);

        shared.Time.Advance(TimeSpan.FromMinutes(2) - TimeSpan.FromSeconds(30));
        using var http = ClientWith(Node, token);
        await (await http.GetAsync("/api/v1/keystores")).JsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Valid_token_whose_groups_map_to_no_role_is_a_403_naming_the_groups()
    {
        var token = Issuer.Token(new TokenSpec { Subject = "nobody-subject", PreferredUsername = "nobody@example.test", Groups = ["marketing", "interns"] });

        var problem = await RefusedAsync(token, HttpStatusCode.Forbidden);

        Assert.Contains("marketing, interns", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Contains("nobody@example.test", (string?)problem["detail"], StringComparison.Ordinal);
        var denial = (await Node.Admin.AllRecordsAsync("&action=auth.denied")).Last();
        Assert.Equal("oidc:nobody-subject", (string?)denial["actorId"]);
        Assert.Equal("user", (string?)denial["actorKind"]);
        Assert.Contains("marketing, interns", (string?)denial["reason"], StringComparison.Ordinal);
        Assert.DoesNotContain(await Node.Admin.AllRecordsAsync("&action=auth.login"), r => (string?)r["actorId"] == "oidc:nobody-subject");
        AssertNowhere(token);
    }

    [Fact]
    public async Task Status_shows_the_key_store_count_to_a_login_with_a_role_only()
    {
        using var withRole = ClientWith(Node, Issuer.Token());
        using var withoutRole = ClientWith(Node, Issuer.Token(new TokenSpec { Groups = ["marketing"] }));

        Assert.NotNull((await (await withRole.GetAsync("/api/v1/sys/status")).JsonAsync(HttpStatusCode.OK))["keyStoreCount"]);
        Assert.Null((await (await withoutRole.GetAsync("/api/v1/sys/status")).JsonAsync(HttpStatusCode.OK))["keyStoreCount"]);
    }

    [Fact]
    public async Task Approved_request_of_an_identity_provider_login_runs_as_that_login()
    {
        await Node.Admin.PutQuorumAsync("oidc-guard", ["key.destroy"], 1, "oidc-custodians");
        var (approver, _) = await ApprovalApi.UserAsync(Node, "approver", "oidc-custodians");
        using var _approver = approver;
        var key = await ApprovalApi.NewKeyAsync(Node.Admin);
        using var requester = ClientWith(Node, Issuer.Token(new TokenSpec { Subject = "requesting-subject", Groups = ["coffer-admins"] }));

        using var held = await requester.PostJsonAsync($"/api/v1/keys/{key}/schedule-destruction", new { waitingPeriodDays = 8 });
        var id = (string)(await held.JsonAsync(HttpStatusCode.Accepted))["id"]!;
        using var vote = await approver.PostJsonAsync($"/api/v1/approvals/{id}/approve", new { comment = "ok" });

        Assert.Equal("executed", (string?)(await vote.JsonAsync(HttpStatusCode.OK))["state"]);
        var record = (await Node.Admin.AllRecordsAsync("&action=key.schedule-destruction")).Single(r => (string?)r["keyId"] == key && (string?)r["outcome"] == "ok");
        Assert.Equal("oidc:requesting-subject", (string?)record["actorId"]);
    }

    [Fact]
    public async Task Auditor_group_reads_but_cannot_change()
    {
        using var http = ClientWith(Node, Issuer.Token(new TokenSpec { Subject = "auditor-subject", Groups = ["coffer-auditors"] }));

        await (await http.GetAsync("/api/v1/keystores")).JsonAsync(HttpStatusCode.OK);
        using var create = await http.PostJsonAsync("/api/v1/keystores", new { name = ManagementApi.Unique("ks"), uriPrefix = "/" + ManagementApi.Unique("p") });
        var problem = await create.ProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("auditor", (string?)problem["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_of_a_coffer_users_subject_is_that_user_with_its_roles_and_groups()
    {
        using var created = await Node.Admin.PostJsonAsync("/api/v1/users",
            new { name = "Dana", oidcSubject = "dana-subject", roles = new[] { new { role = "auditor" } }, groups = new[] { "custodians" } });
        var userId = (string)(await created.JsonAsync(HttpStatusCode.Created))["id"]!;
        var token = Issuer.Token(new TokenSpec { Subject = "dana-subject", Groups = ["unmapped-team"] });
        using var http = ClientWith(Node, token);

        await (await http.GetAsync("/api/v1/keystores")).JsonAsync(HttpStatusCode.OK);
        using var create = await http.PostJsonAsync("/api/v1/keystores", new { name = ManagementApi.Unique("ks"), uriPrefix = "/" + ManagementApi.Unique("p") });
        await create.ProblemAsync(HttpStatusCode.Forbidden);

        var login = (await Node.Admin.AllRecordsAsync("&action=auth.login")).Single(r => (string?)r["actorId"] == userId);
        Assert.Equal("user", (string?)login["actorKind"]);
        Assert.Contains("subject dana-subject, name 'Dana', groups (custodians, unmapped-team), roles (auditor)", (string?)login["details"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Coffer_users_roles_and_the_mapped_ones_add_up()
    {
        using var created = await Node.Admin.PostJsonAsync("/api/v1/users",
            new { name = "Erin", oidcSubject = "erin-subject", roles = new[] { new { role = "auditor" } } });
        var userId = (string)(await created.JsonAsync(HttpStatusCode.Created))["id"]!;
        using var http = ClientWith(Node, Issuer.Token(new TokenSpec { Subject = "erin-subject", Groups = ["coffer-admins"] }));

        var store = await http.CreateKeyStoreAsync();

        var record = (await Node.Admin.AllRecordsAsync("&action=keystore.create")).Single(r => (string?)r["keyStore"] == (string?)store["id"] && (string?)r["outcome"] == "ok");
        Assert.Equal(userId, (string?)record["actorId"]);
    }

    [Fact]
    public async Task Disabled_coffer_user_cannot_log_in_through_the_identity_provider()
    {
        using var created = await Node.Admin.PostJsonAsync("/api/v1/users",
            new { name = "Frank", oidcSubject = "frank-subject", roles = new[] { new { role = "auditor" } } });
        var userId = (string)(await created.JsonAsync(HttpStatusCode.Created))["id"]!;
        (await Node.Admin.PostAsync($"/api/v1/users/{userId}/disable", null)).EnsureSuccessStatusCode();

        await RefusedAsync(Issuer.Token(new TokenSpec { Subject = "frank-subject", Groups = ["coffer-admins"] }), HttpStatusCode.Unauthorized);

        var failure = await LastFailureAsync();
        Assert.Equal("oidc: user disabled", (string?)failure["reason"]);
        Assert.Equal(userId, (string?)failure["actorId"]);
    }

    [Fact]
    public async Task A_flood_of_tokens_with_unknown_key_ids_refetches_the_keys_at_most_once()
    {
        var before = Issuer.JwksFetches;
        // One forged key under twenty key ids: the node looks a key up by its id, and a new RSA key per
        // token would cost seconds of key generation.
        var forged = TestIssuer.NewRsaKey("forged");

        for (var i = 0; i < 20; i++)
        {
            await RefusedAsync(Issuer.Token(new TokenSpec { Key = new RsaSecurityKey(forged.Rsa) { KeyId = "forged-" + i } }), HttpStatusCode.Unauthorized);
        }

        Assert.InRange(Issuer.JwksFetches - before, 0, 1);
        Assert.Equal("oidc: unknown key", (string?)(await LastFailureAsync())["reason"]);
    }

    private string NoExpiryToken()
    {
        // The handler adds no exp when Expires is unset and default times are off.
        var handler = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        return handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer.Issuer,
            Audience = TestIssuer.DefaultAudience,
            Claims = new Dictionary<string, object> { ["sub"] = "no-exp", ["groups"] = new[] { "coffer-admins" } },
            SigningCredentials = new SigningCredentials(Issuer.RsaKey, SecurityAlgorithms.RsaSha256),
        });
    }

    private async Task<JsonNode> RefusedAsync(string token, HttpStatusCode status)
    {
        using var http = ClientWith(Node, token);
        using var response = await http.GetAsync("/api/v1/keystores");
        var problem = await response.ProblemAsync(status);
        Assert.DoesNotContain(token, problem.ToJsonString(), StringComparison.Ordinal);
        return problem;
    }

    private async Task<JsonNode> LastFailureAsync()
    {
        var failure = (await Node.Admin.AllRecordsAsync("&action=auth.failed")).Last();
        Assert.Equal("anonymous", (string?)failure["actorKind"]);
        Assert.Equal("GET /api/v1/keystores", (string?)failure["details"]);
        return failure;
    }

    /// <summary>Neither the token nor its signature is in any audit record or log line.</summary>
    private void AssertNowhere(string token)
    {
        var signature = token[(token.LastIndexOf('.') + 1)..];
        using var db = new AuditDatabase(Node);
        var records = db.DumpAll();
        Assert.DoesNotContain(token, records, StringComparison.Ordinal);
        Assert.DoesNotContain(token, Node.Logs.All, StringComparison.Ordinal);
        if (signature.Length > 0)
        {
            Assert.DoesNotContain(signature, records, StringComparison.Ordinal);
            Assert.DoesNotContain(signature, Node.Logs.All, StringComparison.Ordinal);
        }
    }
}

/// <summary>OIDC cases that need a node of their own: key rotation, an unreachable IdP, no OIDC section,
/// roles on one key store, and configuration refused at start.</summary>
public sealed class OidcNodeTests
{
    [Fact]
    public async Task Rotated_issuer_key_is_accepted_without_a_restart()
    {
        var time = new FakeTimeProvider(OidcNode.Start);
        await using var issuer = await TestIssuer.StartAsync(time);
        await using var node = await DevServer.StartAsync(o => o.Oidc = OidcNode.Options(issuer), time: time);
        using (var before = ManagementApi.ClientWith(node, "Bearer " + issuer.Token()))
        {
            await (await before.GetAsync("/api/v1/keystores")).JsonAsync(HttpStatusCode.OK);
        }

        issuer.RotateRsaKey();
        using var after = ManagementApi.ClientWith(node, "Bearer " + issuer.Token());
        await (await after.GetAsync("/api/v1/keystores")).JsonAsync(HttpStatusCode.OK);

        Assert.Equal("rsa-2", issuer.RsaKey.KeyId);
        Assert.Equal(2, issuer.JwksFetches);
    }

    [Fact]
    public async Task Unreachable_issuer_with_no_cached_keys_is_a_503_and_an_auth_failed_record_and_the_console_login_says_so()
    {
        var time = new FakeTimeProvider(OidcNode.Start);
        await using var issuer = await TestIssuer.StartAsync(time);
        var options = OidcNode.Options(issuer);
        options.Issuer = "http://127.0.0.1:" + ClosedPort();
        options.ClientId = "coffer-console";
        await using var node = await DevServer.StartAsync(o => o.Oidc = options, time: time);

        using var http = ManagementApi.ClientWith(node, "Bearer " + issuer.Token(new TokenSpec { Issuer = options.Issuer }));
        using var response = await http.GetAsync("/api/v1/keystores");

        var problem = await response.ProblemAsync(HttpStatusCode.ServiceUnavailable);
        Assert.Contains("identity provider could not be reached", (string?)problem["detail"], StringComparison.Ordinal);
        var failure = (await node.Admin.AllRecordsAsync("&action=auth.failed")).Last();
        Assert.Equal("oidc: IdP unreachable", (string?)failure["reason"]);

        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = node.Server.AdminUrl };
        using var start = await browser.GetAsync("/api/v1/session/oidc/start");
        Assert.Equal(HttpStatusCode.Redirect, start.StatusCode);
        Assert.Equal("/console/#/login?error=unreachable", start.Headers.Location?.OriginalString);
        Assert.False(start.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task Jwt_without_an_oidc_section_is_a_401_saying_oidc_is_not_configured()
    {
        var time = new FakeTimeProvider(OidcNode.Start);
        await using var issuer = await TestIssuer.StartAsync(time);
        await using var node = await DevServer.StartAsync(time: time);

        using var http = ManagementApi.ClientWith(node, "Bearer " + issuer.Token());
        using var response = await http.GetAsync("/api/v1/keystores");

        var problem = await response.ProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("OIDC is not configured", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Equal("OIDC not configured", (string?)(await node.Admin.AllRecordsAsync("&action=auth.failed")).Last()["reason"]);
    }

    [Fact]
    public async Task Group_mapped_to_a_role_on_one_key_store_reaches_that_key_store_only()
    {
        var time = new FakeTimeProvider(OidcNode.Start);
        await using var issuer = await TestIssuer.StartAsync(time);
        var first = await DevServer.StartAsync(time: time);
        var demo = await first.KeyStoreIdAsync(first.Info.UriPrefix);
        var other = (string)(await first.Admin.CreateKeyStoreAsync())["id"]!;
        var options = OidcNode.Options(issuer);
        options.GroupRoles.Add(new OidcGroupRole { Group = "team-demo", Role = "key-officer", KeyStoreId = demo });
        await using var node = await first.RestartAsync(o => o.Oidc = options);
        using var http = ManagementApi.ClientWith(node, "Bearer " + issuer.Token(new TokenSpec { Groups = ["team-demo"] }));

        using var own = await http.GetAsync($"/api/v1/keystores/{demo}/credentials");
        using var foreign = await http.GetAsync($"/api/v1/keystores/{other}/credentials");
        using var all = await http.GetAsync("/api/v1/keystores");

        await own.JsonAsync(HttpStatusCode.OK);
        Assert.Contains("key-officer on " + demo, (string?)(await foreign.ProblemAsync(HttpStatusCode.Forbidden))["detail"], StringComparison.Ordinal);
        await all.ProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Group_mapped_to_a_custom_role_of_the_database_is_accepted_and_an_unknown_one_refused()
    {
        var time = new FakeTimeProvider(OidcNode.Start);
        await using var issuer = await TestIssuer.StartAsync(time);
        var directory = Directory.CreateTempSubdirectory("coffer-test-").FullName;
        try
        {
            await using (var first = await DevServer.StartAsync(dataDirectory: directory, time: time))
            {
                using var put = await first.Admin.PutAsJsonAsync("/api/v1/roles/key-reader", new { description = "reads keys", permissions = new[] { "keystores.read", "keys.read" } });
                await put.JsonAsync(HttpStatusCode.OK);
            }

            var unknown = OidcNode.Options(issuer);
            unknown.GroupRoles.Add(new OidcGroupRole { Group = "readers", Role = "key-writer" });
            var e = await Assert.ThrowsAsync<OptionsValidationException>(() => DevServer.StartAsync(o => o.Oidc = unknown, directory, time));
            Assert.Contains("'key-writer', which is not a role", e.Message, StringComparison.Ordinal);
            Assert.Contains("key-reader", e.Message, StringComparison.Ordinal);

            var options = OidcNode.Options(issuer);
            options.GroupRoles.Add(new OidcGroupRole { Group = "readers", Role = "key-reader" });
            await using var node = await DevServer.StartAsync(o => o.Oidc = options, directory, time);
            using var http = ManagementApi.ClientWith(node, "Bearer " + issuer.Token(new TokenSpec { Groups = ["readers"] }));
            await (await http.GetAsync("/api/v1/keystores")).JsonAsync(HttpStatusCode.OK);
            await (await http.GetAsync("/api/v1/audit/records")).ProblemAsync(HttpStatusCode.Forbidden);

            // The mapping holds the role: it is not deleted from under the group's logins.
            var refused = await (await node.Admin.DeleteAsync("/api/v1/roles/key-reader")).ProblemAsync(HttpStatusCode.Conflict);
            Assert.Contains("readers", (string?)refused["detail"], StringComparison.Ordinal);
            Assert.Contains("Oidc.GroupRoles", (string?)refused["detail"], StringComparison.Ordinal);
            await (await node.Admin.GetAsync("/api/v1/roles/key-reader")).JsonAsync(HttpStatusCode.OK);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    public static TheoryData<string, string> BadSections => new()
    {
        { "unknown role", "not a role" },
        { "plain http issuer elsewhere", "https" },
        { "issuer not a URL", "https" },
        { "no audience", "Audience" },
        { "key store id malformed", "not a key store id" },
    };

    [Theory]
    [MemberData(nameof(BadSections))]
    public async Task Bad_oidc_section_stops_the_start_with_a_clear_error(string kind, string message)
    {
        var options = new OidcOptions { Issuer = "https://idp.example.test/realms/coffer", Audience = "coffer" };
        switch (kind)
        {
            case "unknown role": options.GroupRoles.Add(new OidcGroupRole { Group = "admins", Role = "superuser" }); break;
            case "plain http issuer elsewhere": options.Issuer = "http://idp.example.test/realms/coffer"; break;
            case "issuer not a URL": options.Issuer = "idp.example.test"; break;
            case "no audience": options.Audience = null; break;
            case "key store id malformed": options.GroupRoles.Add(new OidcGroupRole { Group = "team", Role = "key-officer", KeyStoreId = "tenant-a" }); break;
        }

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => DevServer.StartAsync(o => o.Oidc = options));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.StartsWith("Oidc", e.Message, StringComparison.Ordinal);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
