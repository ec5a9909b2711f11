using System.Security.Cryptography;
using Coffer.Crypto;
using Coffer.KeyStores;
using Coffer.Server.Cluster;
using Coffer.Server.Hosting;
using Coffer.Server.Seal;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Xks;

/// <summary>
/// XKS spec, GetHealthStatus: a deep check — a real AES-GCM round trip through the crypto backend on
/// a dedicated test key, never a customer key — whose result is reused for at most
/// <see cref="XksListenerOptions.HealthCacheSeconds"/> (the spec allows up to 60 s).
/// </summary>
internal sealed partial class DeepHealthCheck(SealManager seal, CofferOptions options, ClusterMembership cluster, TimeProvider time, ILogger<DeepHealthCheck> logger)
{
    public static readonly string Version = BuildInfo.Version;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, (DateTimeOffset At, string Status, object Ring)> _cached = new(StringComparer.Ordinal);

    /// <summary>The health of the backend that holds a key store's keys (each key store is its own
    /// XKS endpoint, so an HSM outage does not mark software key stores unavailable).</summary>
    public HealthResponse Current(string backend) => Answer(backend, Status(backend));

    public HealthResponse Unavailable(string backend) => Answer(backend, "UNAVAILABLE");

    /// <summary>This node's own status for <paramref name="backend"/> (cached like the answer), which it
    /// also reports in its cluster heartbeat.</summary>
    public string Status(string backend)
    {
        var ring = seal.KeyRing;
        if (seal.IsSealed)
        {
            // Not cached: an unseal publishes its new key ring just before it ends, and a check that fell
            // in between (a heartbeat's) would leave UNAVAILABLE cached under that ring for the cache's span.
            return "UNAVAILABLE";
        }

        var now = time.GetUtcNow();
        lock (_lock)
        {
            // A new key ring (unseal, seal, change) invalidates the cached answer at once.
            if (_cached.TryGetValue(backend, out var c) && ReferenceEquals(c.Ring, ring)
                && now - c.At < TimeSpan.FromSeconds(Math.Min(options.Xks.HealthCacheSeconds, 60)))
            {
                return c.Status;
            }

            var status = RoundTrip(seal.HealthKey(backend)) ? "ACTIVE" : "UNAVAILABLE";
            _cached[backend] = (now, status, ring);
            return status;
        }
    }

    private bool RoundTrip(IAeadKey? key)
    {
        if (key is null || seal.IsSealed)
        {
            return false;
        }

        Span<byte> plaintext = stackalloc byte[32];
        Span<byte> aad = stackalloc byte[16];
        Span<byte> iv = stackalloc byte[IAeadKey.IvSize];
        Span<byte> tag = stackalloc byte[IAeadKey.TagSize];
        Span<byte> ciphertext = stackalloc byte[32];
        Span<byte> decrypted = stackalloc byte[32];
        RandomNumberGenerator.Fill(plaintext);
        RandomNumberGenerator.Fill(aad);
        try
        {
            key.Encrypt(plaintext, aad, iv, ciphertext, tag);
            return key.TryDecrypt(iv, ciphertext, tag, aad, decrypted) && CryptographicOperations.FixedTimeEquals(plaintext, decrypted);
        }
        catch (Exception e) when (e is CryptoException or CryptoBackendUnavailableException or CryptographicException
            or ObjectDisposedException or InvalidOperationException)
        {
            Log.HealthCheckFailed(logger, e.GetType().Name, e);
            return false;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
            CryptographicOperations.ZeroMemory(decrypted);
        }
    }

    /// <summary>The fleet is every live node (docs/cluster.md): this one with the status just found, the
    /// others with what their last heartbeat reported for the same backend.</summary>
    private HealthResponse Answer(string backend, string status)
    {
        EkmFleetDetail[] fleet =
        [
            new(options.NodeId, Model(backend, Version), status),
            .. cluster.View.LiveOthers.Select(node => new EkmFleetDetail(node.NodeId, Model(backend, node.Version),
                (backend == KeyStoreBackends.Pkcs11 ? node.HsmHealth : node.Health) ?? "UNAVAILABLE")),
        ];
        return new(XksProxyFleetSize: fleet.Length, XksProxyVendor: "Coffer", XksProxyModel: "Coffer " + Version, EkmVendor: "Coffer", EkmFleetDetails: fleet);
    }

    private static string Model(string backend, string version) => $"Coffer {backend} key store {version}";

    private static partial class Log
    {
        [LoggerMessage(EventId = 2100, Level = LogLevel.Error, Message = "Deep health check failed with {ExceptionType}")]
        public static partial void HealthCheckFailed(ILogger logger, string exceptionType, Exception exception);
    }
}
