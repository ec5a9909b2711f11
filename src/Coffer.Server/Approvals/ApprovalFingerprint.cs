using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Coffer.Server.Approvals.Commands;
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
    /// <summary>The fingerprint of what <paramref name="scope"/> covers. The text hashed is the one requests
    /// stored before commands were typed were fingerprinted with, so they still run.</summary>
    public static async Task<string> ComputeAsync(ICofferStorage storage, FingerprintScope scope, CancellationToken ct)
    {
        var text = new StringBuilder();
        if (scope.KeyId is { } keyId)
        {
            await KeyAsync(storage, keyId, text, ct);
        }

        if (scope.KeyStoreId is { } storeId)
        {
            await KeyStoreAsync(storage, storeId, text, ct);
        }

        if (scope.KillSwitches)
        {
            foreach (var engaged in await storage.KillSwitches.ListAsync(includeReleased: false, ct))
            {
                Line(text, "switch", engaged.Id);
            }
        }

        if (scope.RegionSet is { } name)
        {
            var set = (await storage.Policies.ListRegionSetsAsync(ct)).FirstOrDefault(s => s.Name == name);
            Line(text, "region-set", set is null ? "-" : string.Join(',', set.Regions) + " " + Time(set.UpdatedAt));
        }

        if (scope.QuorumPolicies)
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
