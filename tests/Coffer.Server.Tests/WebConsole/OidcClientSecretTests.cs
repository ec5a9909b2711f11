using System.Runtime.Versioning;
using System.Text;
using Coffer.Server.Tests.Audit;
using Coffer.Server.Tests.Management;
using Coffer.Testing;
using Coffer.Testing.Oidc;

namespace Coffer.Server.Tests.WebConsole;

/// <summary>
/// The console's login through an identity provider that registers Coffer as a confidential client
/// (docs/console.md, "Login through the identity provider"): Coffer reads the secret from <c>Oidc:ClientSecretPath</c>
/// and sends it to the token endpoint as HTTP Basic (client_secret_basic), and the real test issuer
/// refuses any other. Each test starts its own issuer and node, since the secret is read at start.
/// </summary>
[UnsupportedOSPlatform("windows")] // the secret file's mode
public sealed class OidcClientSecretTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("coffer-oidc-secret-").FullName;

    /// <summary>The second secret has what form-encoding changes: ':' ends the client id in Basic, and a
    /// form decoder turns '+' into a space and reads '%' as an escape; it arrives whole only when Coffer
    /// encodes each part (RFC 6749 §2.3.1).</summary>
    [Theory]
    [InlineData("s3cret-of-the-coffer-client")]
    [InlineData("a:b+c/d%e f")]
    public async Task A_confidential_client_logs_in_with_the_secret_of_its_file_which_reaches_no_log_or_record(string secret)
    {
        await using var idp = await ConfidentialLogin.StartAsync(registered: secret, SecretFile(secret));
        idp.Issuer.SignInAs = OidcConsoleNode.User("confidential-admin", "coffer-admins");

        using var done = await idp.Browser.LogInAsync();

        Assert.Equal("/console/", done.Headers.Location?.OriginalString);
        using var http = ConsoleSessionTests.WithCookie(idp.Node, OidcBrowser.SessionCookie(done)!);
        Assert.Equal("oidc:confidential-admin", (string?)(await http.GetJsonAsync("/api/v1/session"))["callerId"]);
        var login = Assert.Single(await idp.Node.Admin.AllRecordsAsync("&action=console.login"));
        Assert.Equal("ok", (string?)login["outcome"]);
        idp.Browser.AssertNowhere(Forms(secret));
    }

    [Fact]
    public async Task A_wrong_secret_in_the_file_is_refused_as_Coffers_client_credentials_and_opens_no_session()
    {
        const string Registered = "the-secret-the-idp-registered";
        const string Stale = "a-secret-the-idp-replaced";
        await using var idp = await ConfidentialLogin.StartAsync(Registered, SecretFile(Stale));
        idp.Issuer.SignInAs = OidcConsoleNode.User("confidential-admin", "coffer-admins");

        using var refused = await idp.Browser.LogInAsync();

        Assert.Equal("/console/#/login?error=client", refused.Headers.Location?.OriginalString);
        Assert.Null(OidcBrowser.SessionCookie(refused));
        var record = Assert.Single(await idp.Node.Admin.AllRecordsAsync("&action=console.login"));
        Assert.Equal("denied", (string?)record["outcome"]);
        Assert.Equal("oidc: token endpoint refused Coffer's client credentials (invalid_client)", (string?)record["reason"]);
        // The operator hears it too: every login fails alike until the configuration is corrected.
        Assert.Contains(idp.Node.Logs.Lines, line => line.StartsWith("Warning ", StringComparison.Ordinal)
            && line.Contains("refused Coffer's client credentials (invalid_client)", StringComparison.Ordinal)
            && line.Contains("Oidc:ClientSecretPath", StringComparison.Ordinal));
        idp.Browser.AssertNowhere([.. Forms(Stale), .. Forms(Registered)]);
    }

    /// <summary>A 0600 file holding the secret and the line break an editor ends it with.</summary>
    private string SecretFile(string secret)
    {
        var path = Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".secret");
        File.WriteAllText(path, secret + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    /// <summary>The secret as it is, form-encoded, and as the Basic credentials carrying it.</summary>
    private static string[] Forms(string secret) =>
    [
        secret,
        Uri.EscapeDataString(secret),
        Convert.ToBase64String(Encoding.UTF8.GetBytes(OidcConsoleNode.ClientId + ":" + Uri.EscapeDataString(secret))),
    ];

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>An issuer that registered the console's client with <c>registered</c> as its secret, and a
    /// node whose Oidc:ClientSecretPath names <c>secretPath</c>.</summary>
    private sealed class ConfidentialLogin(TestIssuer issuer, DevServer node) : IAsyncDisposable
    {
        public TestIssuer Issuer => issuer;

        public DevServer Node => node;

        public OidcBrowser Browser { get; } = new(node, issuer);

        public static async Task<ConfidentialLogin> StartAsync(string registered, string secretPath)
        {
            var issuer = await TestIssuer.StartAsync();
            issuer.ClientSecret = registered;
            try
            {
                var node = await DevServer.StartAsync(o =>
                {
                    o.Oidc = OidcNode.Options(issuer);
                    o.Oidc.ClientId = OidcConsoleNode.ClientId;
                    o.Oidc.ClientSecretPath = secretPath;
                });
                return new ConfidentialLogin(issuer, node);
            }
            catch
            {
                await issuer.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await node.DisposeAsync();
            await issuer.DisposeAsync();
        }
    }
}
