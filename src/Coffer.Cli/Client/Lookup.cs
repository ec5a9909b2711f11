using Coffer.Server.Management;

namespace Coffer.Cli.Client;

/// <summary>
/// Lets people name things as they know them: each argument or option that takes a key, key store,
/// user, app, token or webhook takes its id or its name (a key's name is its XKS externalKeyId, e.g.
/// <c>demo-key</c> of <c>coffer dev</c>; a webhook's is its URL). Roles, region sets and quorum
/// policies have no id but their name, which the server takes as it is.
/// </summary>
/// <remarks>
/// An id is asked for directly where the API can (<c>GET /x/{id}</c>), which a token scoped to key
/// stores may do for its own stores and their keys; only a value that is no id the caller can see is
/// looked for by name in the lists (tokens and webhooks have only their list). A caller whose roles
/// hold on some key stores only may not list them all: its key stores and their keys are looked for
/// in the key stores <c>GET /sys/whoami</c> names, and a name found in none of them is refused (a
/// call about a key store not its own would only be forbidden). Any other value that names nothing,
/// or that the caller may not look for, is passed on as it is, so the call itself gets the server's
/// own "not found" or "forbidden" answer. A name that several things share is refused with their ids.
/// </remarks>
internal static class Lookup
{
    private const int PageSize = 1000;

    public static async Task<string> KeyStoreIdAsync(ManagementClient api, string idOrName, CancellationToken ct)
    {
        if (await api.FindAsync(ManagementClient.Route("keystores", idOrName), ManagementJson.Default.KeyStoreView, ct) is { } direct)
        {
            return direct.Id;
        }

        var reach = await ReachAsync(api, ct);
        if (reach.Everywhere && await api.FindAsync(ManagementClient.Route("keystores"), ManagementJson.Default.ListKeyStoreView, ct) is { } all)
        {
            return OneNamed("key stores", idOrName, all, s => s.Id, s => s.Name);
        }

        return reach.KeyStores.Count == 0 ? idOrName : OneNamed("key stores", idOrName, reach.KeyStores, s => s.Id, s => s.Name, NoneIn("key store", idOrName, reach));
    }

    public static async Task<string> KeyIdAsync(ManagementClient api, string idOrName, CancellationToken ct)
    {
        if (await api.FindAsync(ManagementClient.Route("keys", idOrName), ManagementJson.Default.KeyView, ct) is { } direct)
        {
            return direct.Id;
        }

        var reach = await ReachAsync(api, ct);
        if (reach.Everywhere && await KeysContainingAsync(api, idOrName, null, ct) is { } all)
        {
            return OneNamed("keys", idOrName, all, k => k.Id, k => k.Name, describe: DescribeKey);
        }

        var keys = new List<KeyView>();
        foreach (var store in reach.KeyStores)
        {
            keys.AddRange(await KeysContainingAsync(api, idOrName, store.Id, ct) ?? []);
        }

        return reach.KeyStores.Count == 0 ? idOrName : OneNamed("keys", idOrName, keys, k => k.Id, k => k.Name, NoneIn("key", idOrName, reach), DescribeKey);
    }

    /// <summary>A user's or app's id (<paramref name="kinds"/>: <c>user</c>, <c>app</c> or both, for a token's owner).</summary>
    public static async Task<string> PrincipalIdAsync(ManagementClient api, string idOrName, CancellationToken ct, params string[] kinds)
    {
        var all = new List<PrincipalView>();
        foreach (var kind in kinds)
        {
            if (await api.FindAsync(ManagementClient.Route(kind + "s", idOrName), ManagementJson.Default.PrincipalView, ct) is { } direct)
            {
                return direct.Id;
            }
        }

        foreach (var kind in kinds)
        {
            all.AddRange(await api.FindAsync(ManagementClient.Route(kind + "s"), ManagementJson.Default.ListPrincipalView, ct) ?? []);
        }

        return OneNamed(string.Join(" and ", kinds.Select(kind => kind + "s")), idOrName, all, p => p.Id, p => p.Name);
    }

    /// <summary>A token's id; a name counts only among tokens not revoked, so reusing the name of a
    /// revoked token for its successor leaves the name usable.</summary>
    public static async Task<string> TokenIdAsync(ManagementClient api, string idOrName, CancellationToken ct)
    {
        var tokens = await api.FindAsync(ManagementClient.Route("tokens"), ManagementJson.Default.ListTokenView, ct) ?? [];
        return tokens.Any(t => t.Id == idOrName)
            ? idOrName
            : OneNamed("tokens", idOrName, tokens.Where(t => t.RevokedAt is null), t => t.Id, t => t.Name);
    }

    /// <summary>A webhook's id; a webhook is named by its URL.</summary>
    public static async Task<string> WebhookIdAsync(ManagementClient api, string idOrUrl, CancellationToken ct) =>
        OneNamed("webhooks", idOrUrl, await api.FindAsync(ManagementClient.Route("alerts", "webhooks"), ManagementJson.Default.ListWebhookView, ct), w => w.Id, w => w.Url);

    /// <summary>Where the caller's roles hold, from <c>GET /sys/whoami</c>: on every key store (then the
    /// lists are worth asking), and on which key stores by id (a grant on a key store since deleted has
    /// no name and nothing to find). A server without whoami is taken to allow the lists, as before.</summary>
    private static async Task<Reach> ReachAsync(ManagementClient api, CancellationToken ct) =>
        await api.FindAsync(ManagementClient.Route("sys", "whoami"), ManagementJson.Default.WhoAmIView, ct) is { } caller
            ? new Reach(
                caller.Grants.Any(g => g.KeyStoreId is null),
                [.. caller.Grants.Where(g => g.KeyStoreName is not null).Select(g => (g.KeyStoreId!, g.KeyStoreName!)).Distinct()])
            : new Reach(true, []);

    /// <summary>Why a name found in none of the caller's own key stores is refused.</summary>
    private static string NoneIn(string singular, string name, Reach reach) =>
        $"no {singular} named '{name}' in the key stores the caller holds roles on ({string.Join(", ", reach.KeyStores.Select(s => s.Id))}).";

    private static string DescribeKey(KeyView k) => $"{k.Id} in key store {k.KeyStoreId}";

    /// <summary>Every key whose name or description contains <paramref name="text"/> (the list's own
    /// filter, every page), of one key store or of all; null when the caller may not list them.</summary>
    private static async Task<List<KeyView>?> KeysContainingAsync(ManagementClient api, string text, string? keyStoreId, CancellationToken ct)
    {
        var keys = new List<KeyView>();
        string? after = null;
        do
        {
            var path = ManagementClient.Route("keys") + $"?q={Uri.EscapeDataString(text)}&limit={PageSize}"
                + (keyStoreId is null ? "" : "&keystore=" + Uri.EscapeDataString(keyStoreId))
                + (after is null ? "" : "&after=" + Uri.EscapeDataString(after));
            if (await api.FindAsync(path, ManagementJson.Default.KeyListView, ct) is not { } page)
            {
                return null;
            }

            keys.AddRange(page.Keys);
            after = page.Next;
        }
        while (after is not null);

        return keys;
    }

    /// <summary>The id of the one item that has <paramref name="idOrName"/> as id or as name; when nothing
    /// has it (or <paramref name="items"/> is null: the caller may not list them), the value itself, or
    /// a refusal saying <paramref name="none"/> when the items are all the caller could be naming.</summary>
    private static string OneNamed<T>(
        string plural, string idOrName, IEnumerable<T>? items, Func<T, string> id, Func<T, string> name, string? none = null, Func<T, string>? describe = null)
    {
        var all = items?.ToList() ?? [];
        if (all.Any(item => id(item) == idOrName))
        {
            return idOrName;
        }

        var named = all.Where(item => name(item) == idOrName).ToList();
        return named.Count switch
        {
            0 => none is null ? idOrName : throw new CliException(none),
            1 => id(named[0]),
            _ => throw new CliException($"{named.Count} {plural} are named '{idOrName}': give the id of the one you mean ({string.Join(", ", named.Select(describe ?? id))}).", CliException.Usage),
        };
    }

    /// <param name="Everywhere">One of the caller's roles holds on every key store.</param>
    /// <param name="KeyStores">The key stores its other roles hold on, by id and name.</param>
    private sealed record Reach(bool Everywhere, List<(string Id, string Name)> KeyStores);
}
