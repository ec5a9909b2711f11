using Coffer.Crypto;
using Coffer.KeyStores;

namespace Coffer.Server.Seal;

/// <summary>
/// The crypto backends of an unsealed node, by name, each with its dedicated health-check key:
/// the software backend (made from the master key at unseal, gone at seal) and any HSM backends
/// configured for the node (docs/design.md, "Crypto backends").
/// </summary>
internal sealed class CryptoBackends : IDisposable
{
    private readonly Dictionary<string, Entry> _byName = new(StringComparer.Ordinal);

    /// <param name="software">Owned: disposed with this set (at seal).</param>
    /// <param name="external">Live for the process (an HSM session pool); not disposed here.</param>
    public CryptoBackends(ICryptoBackend software, IEnumerable<ICryptoBackend> external)
    {
        Add(software, owned: true);
        foreach (var backend in external)
        {
            Add(backend, owned: false);
        }
    }

    public IEnumerable<string> Names => _byName.Keys;

    /// <summary>The backend of that name, or null when this node has none (e.g. no PKCS#11 token configured).</summary>
    public ICryptoBackend? Find(string name) => _byName.TryGetValue(name, out var entry) ? entry.Backend : null;

    /// <summary>The backend a key store's keys are created in, or a clear refusal.</summary>
    public ICryptoBackend For(KeyStore store) => Find(store.Backend)
        ?? throw new SealStateException($"Key store '{store.Name}' keeps its keys in the '{store.Backend}' backend, which this node does not have configured.");

    /// <summary>The backend's dedicated health-check key, made on first use and again after a
    /// failure to make it (an HSM that was down at unseal), or null while it cannot be made.</summary>
    public IAeadKey? HealthKey(string name)
    {
        if (!_byName.TryGetValue(name, out var entry))
        {
            return null;
        }

        lock (entry)
        {
            if (entry.HealthKey is null)
            {
                try
                {
                    entry.HealthKey = entry.Backend.CreateHealthCheckKey();
                }
                catch (Exception e) when (e is CryptoException or CryptoBackendUnavailableException)
                {
                    return null;
                }
            }

            return entry.HealthKey;
        }
    }

    private void Add(ICryptoBackend backend, bool owned) => _byName[backend.Name] = new Entry(backend, owned);

    public void Dispose()
    {
        foreach (var entry in _byName.Values)
        {
            lock (entry)
            {
                entry.HealthKey?.Dispose();
                entry.HealthKey = null;
            }

            if (entry.Owned)
            {
                entry.Backend.Dispose();
            }
        }

        _byName.Clear();
    }

    private sealed class Entry(ICryptoBackend backend, bool owned)
    {
        public ICryptoBackend Backend { get; } = backend;

        public bool Owned { get; } = owned;

        public IAeadKey? HealthKey { get; set; }
    }
}
