using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Coffer.Crypto;
using Coffer.Server.Management;
using Coffer.Server.Seal;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Hosting;

/// <summary>What <c>coffer dev</c> sets up and prints; also written to <c>&lt;data&gt;/dev.json</c>.</summary>
public sealed record DevInfo(
    string XksBaseUrl,
    string UriPrefix,
    string AccessKeyId,
    string SecretAccessKey,
    string KeyId,
    string AdminUrl,
    string AdminToken,
    string Backend = Coffer.KeyStores.KeyStoreBackends.Software,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<DevNode>? Nodes = null);

/// <summary>One node of <c>coffer dev --cluster</c>, as listed in dev.json.</summary>
public sealed record DevNode(string NodeId, string XksBaseUrl, string AdminUrl);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(DevInfo))]
internal sealed partial class DevJson : JsonSerializerContext;

/// <summary>
/// <c>coffer dev</c>: a working XKS endpoint on loopback with embedded defaults — SQLite and the dev
/// seal in the data directory, a demo key store (prefix <c>/demo</c>, one credential) and a demo
/// AES-256 key, created once through the management API and reused on every later start.
/// </summary>
public static class DevEnvironment
{
    public const string DemoKeyStore = "demo";
    public const string DemoPrefix = "/demo";
    public const string DemoKey = "demo-key";
    public const string FileName = "dev.json";

    public static Task<(CofferServer Server, DevInfo Info)> StartAsync(CofferOptions options, ILoggerFactory loggers, TimeProvider? time = null, CancellationToken ct = default) =>
        StartAsync(options, loggers, time, unaudited: false, ct);

    /// <param name="unaudited">Benchmark only (<c>COFFER_BENCHMARK_UNAUDITED=1</c> read by <c>coffer dev</c>): no audit records.</param>
    internal static async Task<(CofferServer Server, DevInfo Info)> StartAsync(CofferOptions options, ILoggerFactory loggers, TimeProvider? time, bool unaudited, CancellationToken ct = default)
    {
        var (server, info) = await StartFirstNodeAsync(options, loggers, time, unaudited, ct);
        try
        {
            await WriteAsync(Path.Combine(options.DataDirectory, FileName), info, ct);
            return (server, info);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Initialises the data directory and database once, starts the node and creates (or
    /// finds) the demo objects; dev.json is left to the caller.</summary>
    internal static async Task<(CofferServer Server, DevInfo Info)> StartFirstNodeAsync(CofferOptions options, ILoggerFactory loggers, TimeProvider? time, bool unaudited, CancellationToken ct)
    {
        options.Seal = SealKinds.Dev;
        CofferOptionsValidation.ThrowIfInvalid(options);
        OwnerOnlyFiles.CreateDirectory(options.DataDirectory);
        var infoPath = Path.Combine(options.DataDirectory, FileName);
        var token = await InitializeOnceAsync(options, loggers, ct);

        var server = await CofferServer.StartAsync(options, loggers, time, unaudited, ct);
        try
        {
            DevInfo info;
            if (token is not null)
            {
                info = await CreateDemoAsync(server, options, token, ct);
            }
            else
            {
                var previous = await ReadAsync(infoPath, ct)
                    ?? throw new InvalidOperationException($"{infoPath} is missing, so the demo credentials are unknown; delete {options.DataDirectory} to start afresh.");
                info = previous with
                {
                    XksBaseUrl = XksBaseUrl(server, previous.UriPrefix),
                    AdminUrl = server.AdminUrl.ToString().TrimEnd('/'),
                    Nodes = null,
                };
            }

            return (server, info);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>dev.json, or null while it is missing or still being written (for waiting on it).</summary>
    public static async Task<DevInfo?> ReadAsyncOrNull(string path, CancellationToken ct = default)
    {
        try
        {
            return await ReadAsync(path, ct);
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            return null;
        }
    }

    public static async Task<DevInfo?> ReadAsync(string path, CancellationToken ct = default)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        await using var stream = File.OpenRead(path);
        return await JsonSerializer.DeserializeAsync(stream, DevJson.Default.DevInfo, ct);
    }

    /// <summary>Creates the dev master key file and initialises the database once; returns the
    /// root token the first time, null when both already exist.</summary>
    private static async Task<string?> InitializeOnceAsync(CofferOptions options, ILoggerFactory loggers, CancellationToken ct)
    {
        using var storage = await options.Storage.OpenAsync(options, ct);
        if (await storage.System.GetSettingAsync(SettingNames.SealKind, ct) is not null)
        {
            return null;
        }

        using var master = MasterKey.Generate();
        var raw = master.Export();
        try
        {
            // Only the owner may read the dev master key (it is the dev seal: a key in a file).
            await File.WriteAllBytesAsync(options.ResolvedDevMasterKeyPath, raw, ct);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(options.ResolvedDevMasterKeyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }

        // Only to initialise: nothing here subscribes to the feed.
        using var changes = new Changes.ChangeFeed(options.NodeId, loggers.CreateLogger<Changes.ChangeFeed>());
        using var seal = new SealManager(storage, changes, TimeProvider.System, loggers.CreateLogger<SealManager>());
        return await seal.InitializeWithKeyAsync(master, SealKinds.Dev, ct: ct);
    }

    /// <summary>The demo objects are made through the management API, the same path a user takes.</summary>
    private static async Task<DevInfo> CreateDemoAsync(CofferServer server, CofferOptions options, string token, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = server.AdminUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var backend = options.Pkcs11 is null ? Coffer.KeyStores.KeyStoreBackends.Software : Coffer.KeyStores.KeyStoreBackends.Pkcs11;
        var store = await PostAsync(http, "/api/v1/keystores",
            JsonContent.Create(new CreateKeyStoreRequest(DemoKeyStore, DemoPrefix, backend), ManagementJson.Default.CreateKeyStoreRequest), ManagementJson.Default.KeyStoreView, ct);
        var credential = await PostAsync(http, $"/api/v1/keystores/{store.Id}/credentials", null, ManagementJson.Default.CreatedCredential, ct);
        await PostAsync(http, $"/api/v1/keystores/{store.Id}/keys", JsonContent.Create(
            new CreateKeyRequest(DemoKey, "Demo key created by coffer dev", new Dictionary<string, string> { ["purpose"] = "demo" }, ["ENCRYPT", "DECRYPT"]),
            ManagementJson.Default.CreateKeyRequest), ManagementJson.Default.KeyView, ct);
        return new DevInfo(XksBaseUrl(server, store.UriPrefix), store.UriPrefix, credential.AccessKeyId, credential.SecretAccessKey,
            DemoKey, server.AdminUrl.ToString().TrimEnd('/'), token, store.Backend);
    }

    /// <param name="body">The JSON body, or null for an endpoint that takes none.</param>
    private static async Task<TResponse> PostAsync<TResponse>(HttpClient http, string path, HttpContent? body,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<TResponse> responseType, CancellationToken ct)
    {
        using var response = await http.PostAsync(path, body, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"coffer dev could not create its demo objects: {path} answered {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        }

        return (await response.Content.ReadFromJsonAsync(responseType, ct))!;
    }

    internal static string XksBaseUrl(CofferServer server, string prefix) =>
        server.XksUrl.ToString().TrimEnd('/') + prefix + Coffer.KeyStores.UriPrefix.XksSuffix;

    internal static async Task WriteAsync(string path, DevInfo info, CancellationToken ct)
    {
        var temp = path + ".tmp";
        await File.WriteAllTextAsync(temp, JsonSerializer.Serialize(info, DevJson.Default.DevInfo), ct);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temp, path, overwrite: true);
    }
}
