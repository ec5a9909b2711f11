using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Coffer.Storage;

namespace Coffer.Server.Approvals;

/// <summary>
/// The state of what a guarded call acts on, as one SHA-256 (a request runs only "with the
/// state it was approved against"). Taken when the request is made and again when the quorum is
/// reached; if they differ the request becomes void. It covers what the approvers judged: the key
/// and its versions' lifecycle, the key store with its credentials and access rules version, the
/// engaged kill switches, the region set, the quorum policies — never key material or secrets.
/// </summary>
internal static class ApprovalFingerprint
{
    public static async Task<string> ComputeAsync(ICofferStorage storage, string routePattern, IReadOnlyDictionary<string, string> route, CancellationToken ct)
    {
        var text = new StringBuilder();
        if (route.TryGetValue("keyId", out var keyId))
        {
            await KeyAsync(storage, keyId, text, ct);
        }

        if (route.TryGetValue("id", out var storeId) && routePattern.StartsWith("/api/v1/keystores/{id}", StringComparison.Ordinal))
        {
            await KeyStoreAsync(storage, storeId, text, ct);
        }

        if (routePattern.StartsWith("/api/v1/kill-switches", StringComparison.Ordinal))
        {
            foreach (var engaged in await storage.KillSwitches.ListAsync(includeReleased: false, ct))
            {
                Line(text, "switch", engaged.Id);
            }
        }

        if (route.TryGetValue("name", out var name) && routePattern.StartsWith("/api/v1/region-sets/", StringComparison.Ordinal))
        {
            var set = (await storage.Policies.ListRegionSetsAsync(ct)).FirstOrDefault(s => s.Name == name);
            Line(text, "region-set", set is null ? "-" : string.Join(',', set.Regions) + " " + Time(set.UpdatedAt));
        }

        if (routePattern.StartsWith("/api/v1/quorum-policies", StringComparison.Ordinal))
        {
            foreach (var policy in await storage.Approvals.ListPoliciesAsync(ct))
            {
                Line(text, "quorum", $"{policy.Name} {string.Join(',', policy.Operations)} {policy.RequiredApprovals} {policy.ApproverGroup} {policy.Lifetime.TotalSeconds} {Time(policy.UpdatedAt)}");
            }
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private static async Task KeyAsync(ICofferStorage storage, string keyId, StringBuilder text, CancellationToken ct)
    {
        var key = await storage.Keys.GetKeyAsync(keyId, ct);
        if (key is null)
        {
            Line(text, "key", "-");
            return;
        }

        Line(text, "key", $"{key.Id} {key.Enabled} {key.CurrentVersion} {key.CompromisedMayDecrypt} {Time(key.DestroysAt)} {Time(key.DestroyedAt)}");
        foreach (var v in await storage.Keys.ListVersionsAsync(keyId, ct))
        {
            Line(text, "version", $"{v.Version} {v.State} {Time(v.ActivatesAt)} {Time(v.DeactivatesAt)} {Time(v.DestroysAt)}");
        }

        Line(text, "key-rules", (await storage.Policies.GetAsync(PolicyScopes.Key, keyId, ct: ct))?.Version.ToString(CultureInfo.InvariantCulture) ?? "-");
    }

    private static async Task KeyStoreAsync(ICofferStorage storage, string storeId, StringBuilder text, CancellationToken ct)
    {
        var store = await storage.KeyStores.GetKeyStoreAsync(storeId, ct);
        if (store is null)
        {
            Line(text, "keystore", "-");
            return;
        }

        Line(text, "keystore", $"{store.Id} {store.Name} {store.Prefix.Value} {await storage.Keys.CountKeysAsync(storeId, ct)}");
        foreach (var credential in await storage.KeyStores.ListCredentialsAsync(storeId, ct))
        {
            Line(text, "credential", $"{credential.Id} {Time(credential.RevokedAt)}");
        }

        Line(text, "keystore-rules", (await storage.Policies.GetAsync(PolicyScopes.KeyStore, storeId, ct: ct))?.Version.ToString(CultureInfo.InvariantCulture) ?? "-");
    }

    private static void Line(StringBuilder text, string kind, string value) => text.Append(kind).Append(' ').Append(value).Append('\n');

    private static string Time(DateTimeOffset? at) => at?.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) ?? "-";
}
