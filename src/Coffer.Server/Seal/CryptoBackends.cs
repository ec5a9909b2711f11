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
    private readonly Dictionary<string, (ICryptoBackend Backend, IAeadKey? HealthKey, bool Owned)> _byName = new(StringComparer.Ordinal);

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

    public IAeadKey? HealthKey(string name) => _byName.TryGetValue(name, out var entry) ? entry.HealthKey : null;

    private void Add(ICryptoBackend backend, bool owned)
    {
        IAeadKey? health = null;
        try
        {
            health = backend.CreateHealthCheckKey();
        }
        catch (CryptoException)
        {
            // An HSM that is down at unseal still registers; the health check reports it unavailable.
        }

        _byName[backend.Name] = (backend, health, owned);
    }

    public void Dispose()
    {
        foreach (var (backend, health, owned) in _byName.Values)
        {
            health?.Dispose();
            if (owned)
            {
                backend.Dispose();
            }
        }

        _byName.Clear();
    }
}
