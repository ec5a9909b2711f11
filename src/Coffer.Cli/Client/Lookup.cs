using Coffer.Server.Management;

namespace Coffer.Cli.Client;

/// <summary>
/// Lets people name things as they know them: a key store by id or name, a key by id or by its
/// name (the XKS externalKeyId, e.g. <c>demo-key</c> of <c>coffer dev</c>). A value that names
/// nothing is passed on as an id, so an unknown one gets the server's own "not found" detail.
/// </summary>
internal static class Lookup
{
    public static async Task<string> KeyStoreIdAsync(ManagementClient api, string idOrName, CancellationToken ct)
    {
        var stores = (await api.GetAsync(ManagementClient.Route("keystores"), ManagementJson.Default.ListKeyStoreView, ct)).Value;
        return (stores.FirstOrDefault(s => s.Id == idOrName) ?? stores.FirstOrDefault(s => s.Name == idOrName))?.Id ?? idOrName;
    }

    public static async Task<string> KeyIdAsync(ManagementClient api, string idOrName, CancellationToken ct)
    {
        var found = await api.GetAsync(ManagementClient.Route("keys") + "?limit=1000&q=" + Uri.EscapeDataString(idOrName), ManagementJson.Default.KeyListView, ct);
        if (found.Value.Keys.Any(k => k.Id == idOrName))
        {
            return idOrName;
        }

        var named = found.Value.Keys.Where(k => k.Name == idOrName).ToList();
        return named.Count switch
        {
            0 => idOrName,
            1 => named[0].Id,
            _ => throw new CliException($"{named.Count} keys are named '{idOrName}' (in key stores {string.Join(", ", named.Select(k => k.KeyStoreId))}): give the key id ({string.Join(", ", named.Select(k => k.Id))})."),
        };
    }
}
