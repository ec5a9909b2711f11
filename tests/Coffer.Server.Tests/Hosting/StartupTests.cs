using System.Net;
using System.Net.Sockets;
using Coffer.Hsm;
using Coffer.Server.Hosting;
using Coffer.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Coffer.Server.Tests.Hosting;

/// <summary>A node's start: a configuration that cannot work is refused before anything opens, with one
/// message per problem naming its setting; a part that fails to start closes what started before it.</summary>
public sealed class StartupTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("coffer-startup-").FullName;
    private readonly CapturedLogs _logs = new();
    private readonly ILoggerFactory _loggers;

    public StartupTests() => _loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs));

    private string DataDirectory => Path.Combine(_root, "data");

    public static TheoryData<string, string> BadConfigurations => new()
    {
        { "xks port", "Xks:Port must be between 0 (a free port) and 65535, not 70000." },
        { "admin address", "Admin:Address must be an IP address, 'localhost' or '*' (every address), not 'admin.example'." },
        { "plain xks", "Xks:Tls:CertificatePath is required: AWS KMS only calls HTTPS. Set Xks:AllowPlainHttp only behind your own TLS terminator." },
        { "mtls without subject", "Xks:Tls:ClientSubject is required with a client CA: the subject client certificates must carry (AWS presents CN=cks.kms.<region>.amazonaws.com)." },
        { "pem without key", "Admin:Tls:KeyPath is required with a PEM certificate: its private key file." },
        { "seal", "Seal must be 'shamir', 'pkcs11' or 'dev', not 'vault'." },
        { "pkcs11 seal without token", "Pkcs11 is required by the pkcs11 seal: the token's module, label or slot, and PIN source." },
        { "syslog without host", "Audit:Syslog:Host is required: the syslog receiver's name or address." },
        { "alert batch", "Alerts:BatchSize must be 1..10000, not 0." },
        { "oidc audience", "Oidc:Audience is required: the 'aud' value the identity provider puts into tokens for Coffer (e.g. api://coffer)." },
        { "oidc scope", "Oidc:Scope must contain 'openid' (an ID token is what the login checks); got 'profile email'." },
        { "oidc redirect", "Oidc:RedirectPath must be a path on Coffer's own address, starting with '/', without query or fragment; got 'https://evil.example/cb'." },
        { "oidc secret without client", "Oidc:ClientSecretPath needs Oidc:ClientId: the secret authenticates that client, for the web console's login through the identity provider." },
        { "oidc secret missing", "Oidc:ClientSecretPath '{root}/absent.secret' must name the file holding the client secret; there is no such file." },
        { "oidc secret open", "Oidc:ClientSecretPath '{root}/open.secret' is readable or writable by other users; chmod 600 it." },
        { "aad limit", "Xks:MaxAadBytes must be 8192..65535 (the XKS spec's minimum; the AAD's length prefix has 16 bits), not 70000." },
        { "full reload", "Cluster:FullReloadSeconds must be 1..3600, not 0: the full reload is what retries a cache that failed to reload." },
        { "retention age", "Audit:Retention:MaxAgeDays must be 1..36500 (days a record stays in the live log), or be left out to archive only on request; not 0." },
        { "retention interval", "Audit:Retention:IntervalMinutes must be 1..10080, not 0." },
        { "staleness", "Cluster:StalenessSeconds must be 2..60, not 61: the node confirms it is current every second, and a longer bound lets a node cut off from the database serve changes it missed for longer." },
    };

    [Theory]
    [MemberData(nameof(BadConfigurations))]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // the secret files' modes
    public async Task A_bad_setting_stops_the_start_with_its_message_before_anything_opens(string kind, string message)
    {
        var options = Options();
        switch (kind)
        {
            case "xks port": options.Xks.Port = 70000; break;
            case "admin address": options.Admin.Address = "admin.example"; break;
            case "plain xks": options.Xks.AllowPlainHttp = false; break;
            case "mtls without subject":
                options.Xks.Tls.CertificatePath = Path.Combine(_root, "xks.p12");
                options.Xks.Tls.ClientCaPath = Path.Combine(_root, "ca.pem");
                break;
            case "pem without key": options.Admin.Tls.CertificatePath = Path.Combine(_root, "admin.pem"); break;
            case "seal": options.Seal = "vault"; break;
            case "pkcs11 seal without token": options.Seal = "pkcs11"; break;
            case "syslog without host": options.Audit.Syslog = new SyslogSinkOptions { Enabled = true }; break;
            case "alert batch": options.Alerts.BatchSize = 0; break;
            case "oidc audience": options.Oidc = new OidcOptions { Issuer = "https://idp.example.test/realms/coffer" }; break;
            case "oidc scope": options.Oidc = new OidcOptions { Issuer = "https://idp.example.test", Audience = "api://coffer", ClientId = "coffer", Scope = "profile email" }; break;
            case "oidc redirect": options.Oidc = new OidcOptions { Issuer = "https://idp.example.test", Audience = "api://coffer", ClientId = "coffer", RedirectPath = "https://evil.example/cb" }; break;
            case "oidc secret without client": options.Oidc = new OidcOptions { Issuer = "https://idp.example.test", Audience = "api://coffer", ClientSecretPath = SecretFile("client.secret", UnixFileMode.UserRead | UnixFileMode.UserWrite) }; break;
            case "oidc secret missing": options.Oidc = new OidcOptions { Issuer = "https://idp.example.test", Audience = "api://coffer", ClientId = "coffer", ClientSecretPath = Path.Combine(_root, "absent.secret") }; break;
            case "oidc secret open": options.Oidc = new OidcOptions { Issuer = "https://idp.example.test", Audience = "api://coffer", ClientId = "coffer", ClientSecretPath = SecretFile("open.secret", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead) }; break;
            case "aad limit": options.Xks.MaxAadBytes = 70000; break;
            case "full reload": options.Cluster.FullReloadSeconds = 0; break;
            case "retention age": options.Audit.Retention.MaxAgeDays = 0; break;
            case "retention interval": options.Audit.Retention.IntervalMinutes = 0; break;
            case "staleness": options.Cluster.StalenessSeconds = 61; break;
        }

        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => CofferServer.StartAsync(options, _loggers));

        Assert.Equal([message.Replace("{root}", _root, StringComparison.Ordinal)], refused.Failures);
        // Nothing opened: not even the data directory was made, so no database and no listener.
        Assert.False(Directory.Exists(DataDirectory));
    }

    [Fact]
    public async Task Every_problem_is_named_once_in_one_refusal()
    {
        var options = Options();
        options.Xks.Port = -1;
        options.Alerts.MaxAttempts = 0;
        options.Pkcs11 = new Pkcs11Options { ModulePath = "libsofthsm2.so", TokenLabel = "t", PinEnvironmentVariable = "PIN", SessionTimeoutMs = 0 };

        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => CofferServer.StartAsync(options, _loggers));

        Assert.Equal(
            [
                "Pkcs11:ModulePath must be an absolute path, not 'libsofthsm2.so'.",
                "Pkcs11:SessionTimeoutMs must be 1..60000, not 0.",
                "Xks:Port must be between 0 (a free port) and 65535, not -1.",
                "Alerts:MaxAttempts must be 1..1000, not 0.",
            ],
            refused.Failures);
        Assert.False(Directory.Exists(DataDirectory));
    }

    [Fact]
    public async Task Coffer_dev_refuses_a_bad_setting_before_it_writes_its_data_directory()
    {
        var options = Options();
        options.Admin.Port = 65536;

        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => DevEnvironment.StartAsync(options, _loggers));

        Assert.Equal(["Admin:Port must be between 0 (a free port) and 65535, not 65536."], refused.Failures);
        Assert.False(Directory.Exists(DataDirectory));
    }

    [Theory]
    [InlineData("xks")]
    [InlineData("admin")]
    public async Task A_listener_that_cannot_open_its_port_stops_the_start_and_closes_what_had_started(string taken)
    {
        using var occupied = new TcpListener(IPAddress.Loopback, 0);
        occupied.Start();
        var takenPort = ((IPEndPoint)occupied.LocalEndpoint).Port;
        var otherPort = FreePort();
        var options = Options();
        options.Xks.Port = taken == "xks" ? takenPort : otherPort;
        options.Admin.Port = taken == "admin" ? takenPort : otherPort;

        await Assert.ThrowsAsync<IOException>(() => CofferServer.StartAsync(options, _loggers));

        // The other listener is closed (or never opened): its port is free again.
        using (var other = new TcpListener(IPAddress.Loopback, otherPort))
        {
            other.Start();
        }

        // And the storage was closed: a node starts on the same data directory and serves.
        options.Xks.Port = 0;
        options.Admin.Port = 0;
        await using var node = await CofferServer.StartAsync(options, _loggers);
        using var http = new HttpClient { BaseAddress = node.AdminUrl };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/healthz", UriKind.Relative))).StatusCode);
    }

    private CofferOptions Options() => new()
    {
        DataDirectory = DataDirectory,
        NodeId = "startup-test",
        Xks = new XksListenerOptions { Address = "127.0.0.1", Port = 0, AllowPlainHttp = true },
        Admin = new ListenerOptions { Address = "127.0.0.1", Port = 0 },
    };

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private string SecretFile(string name, UnixFileMode mode)
    {
        var path = Path.Combine(_root, name);
        File.WriteAllText(path, "not-the-point");
        File.SetUnixFileMode(path, mode);
        return path;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        _loggers.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
