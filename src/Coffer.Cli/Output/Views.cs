using Coffer.Server.Management;

namespace Coffer.Cli.Output;

/// <summary>How each management API resource reads in a terminal.</summary>
internal static class Views
{
    public static void Status(TextWriter w, SealStatusView s, Uri address)
    {
        var properties = new List<(string, string)>
        {
            ("Address", address.ToString().TrimEnd('/')),
            ("Initialized", Table.YesNo(s.Initialized)),
            ("Sealed", Table.YesNo(s.Sealed)),
            ("Seal", s.SealKind ?? "-"),
        };
        if (s.SealKind == "shamir")
        {
            properties.Add(("Threshold", s.Threshold.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            properties.Add(("Unseal progress", $"{s.Progress}/{s.Threshold}"));
        }

        properties.Add(("Version", s.Version));
        properties.Add(("Key stores", s.KeyStoreCount?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(shown with a token)"));
        Table.Properties(w, properties);
        if (s.Nodes is { Count: > 0 } nodes)
        {
            w.WriteLine();
            Nodes(w, nodes);
        }
    }

    /// <summary>The cluster's nodes (docs/cluster.md): one row each.</summary>
    public static void Nodes(TextWriter w, IReadOnlyList<NodeView> nodes) =>
        Table.Write(w, ["NODE", "STATE", "HEARTBEAT", "SEALED", "HEALTH", "HSM", "LEADER", "VERSION", "MANAGEMENT", "XKS"], nodes.Select(n => (IReadOnlyList<string>)
        [
            n.Id, n.State, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{n.HeartbeatAgeSeconds:0.0} s ago"), Table.YesNo(n.Sealed),
            n.Health, n.HsmHealth ?? "-", Table.YesNo(n.Leader), n.Version, Dash(n.ManagementUrl), Dash(n.XksUrl),
        ]));

    private static string Dash(string text) => text.Length == 0 ? "-" : text;

    /// <summary>The caller, then each role it holds and where: every key store, or one by id and name.</summary>
    public static void WhoAmI(TextWriter w, WhoAmIView c)
    {
        Table.Properties(w,
        [
            ("ID", c.Id),
            ("Kind", c.Kind),
            ("Name", c.Name),
            ("Token", c.TokenId ?? "-"),
            ("Groups", c.Groups.Count == 0 ? "-" : string.Join(", ", c.Groups)),
        ]);
        w.WriteLine();
        Table.Write(w, ["ROLE", "KEY STORE", "KEY STORE NAME"], c.Grants.Select(g => (IReadOnlyList<string>)
            [g.Role, g.KeyStoreId ?? "(every key store)", g.KeyStoreId is null ? "-" : g.KeyStoreName ?? "(deleted)"]));
    }

    public static void KeyStore(TextWriter w, KeyStoreView k) => Table.Properties(w,
    [
        ("ID", k.Id),
        ("Name", k.Name),
        ("URI prefix", k.UriPrefix.Length == 0 ? "(none)" : k.UriPrefix),
        ("XKS proxy URI path", k.XksProxyUriPath),
        ("Backend", k.Backend),
        ("Keys", Count(k.KeyCount)),
        ("Live credentials", Count(k.LiveCredentialCount)),
        ("Created", Table.Time(k.CreatedAt)),
    ]);

    public static void KeyStores(TextWriter w, IEnumerable<KeyStoreView> stores) => Table.Write(w,
        ["ID", "NAME", "XKS PROXY URI PATH", "BACKEND", "KEYS", "CREDENTIALS", "CREATED"],
        stores.Select(k => (IReadOnlyList<string>)[k.Id, k.Name, k.XksProxyUriPath, k.Backend, Count(k.KeyCount), Count(k.LiveCredentialCount), Table.Time(k.CreatedAt)]));

    public static void Credentials(TextWriter w, IEnumerable<CredentialView> credentials) => Table.Write(w,
        ["ID", "ACCESS KEY ID", "STATUS", "CREATED", "REVOKED"],
        credentials.Select(c => (IReadOnlyList<string>)[c.Id, c.AccessKeyId, c.Status, Table.Time(c.CreatedAt), Table.Time(c.RevokedAt)]));

    public static void Key(TextWriter w, KeyView k)
    {
        Table.Properties(w,
        [
            ("ID", k.Id),
            ("Name (externalKeyId)", k.Name),
            ("Key store", k.KeyStoreId),
            ("Description", k.Description.Length == 0 ? "-" : k.Description),
            ("Usage", Usage(k.Usage)),
            ("Status", k.Status),
            ("Current version", Count(k.CurrentVersion)),
            ("Compromised may decrypt", Table.YesNo(k.CompromisedMayDecrypt)),
            ("Tags", k.Tags.Count == 0 ? "-" : string.Join(", ", k.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"))),
            ("Created", Table.Time(k.CreatedAt)),
        ]);
        if (k.DestroysAt is not null || k.DestroyedAt is not null)
        {
            Table.Properties(w, k.DestroyedAt is { } destroyed
                ? [("Destroyed", Table.Time(destroyed))]
                : [("Destroys", Table.Time(k.DestroysAt) + " (coffer key cancel-destruction until then)")]);
        }

        if (k.Versions is { Count: > 0 } versions)
        {
            w.WriteLine();
            Versions(w, k.CurrentVersion, versions);
        }
    }

    /// <summary>Every version with its state, what it can do now, its scheduled times and who last changed it.</summary>
    public static void Versions(TextWriter w, int current, IEnumerable<KeyVersionView> versions) => Table.Write(w,
        ["VERSION", "STATE", "USE", "BACKEND", "CREATED", "CHANGED", "CHANGED BY", "ACTIVATES", "EXPIRES", "DESTROYS", "ENCRYPTIONS RESERVED"],
        versions.Select(v => (IReadOnlyList<string>)
        [
            Count(v.Version) + (v.Version == current ? " (current)" : ""),
            v.State,
            v.Encrypts ? "encrypt, decrypt" : v.Decrypts ? "decrypt" : "none",
            v.Backend,
            Table.Time(v.CreatedAt),
            Table.Time(v.StateChangedAt),
            v.StateChangedBy ?? "-",
            Table.Time(v.ActivatesAt),
            Table.Time(v.DeactivatesAt),
            Table.Time(v.DestroysAt),
            Count(v.EncryptionsReserved),
        ]));

    /// <summary>Each key a bulk rotation took, then one line that sums it up.</summary>
    public static void BulkRotation(TextWriter w, BulkRotateView r)
    {
        Table.Write(w,
            ["ID", "NAME", "KEY STORE", "FROM", "TO", "RESULT", "REASON"],
            r.Keys.Select(k => (IReadOnlyList<string>)
            [
                k.KeyId, k.Name, k.KeyStoreId, Count(k.FromVersion), k.ToVersion is { } to ? Count(to) : "-", k.Outcome, k.Error ?? "-",
            ]));
        w.WriteLine(r.DryRun
            ? $"Dry run: {Count(r.Keys.Count(k => k.Outcome == "would-rotate"))} of {Count(r.Matched)} matching keys would rotate; nothing changed."
            : $"{Count(r.Rotated)} rotated, {Count(r.Failed)} failed, {Count(r.Skipped)} skipped of {Count(r.Matched)} matching keys.");
    }

    public static void Keys(TextWriter w, IEnumerable<KeyView> keys) => Table.Write(w,
        ["ID", "NAME", "KEY STORE", "USAGE", "STATUS", "VERSION", "CREATED"],
        keys.Select(k => (IReadOnlyList<string>)[k.Id, k.Name, k.KeyStoreId, Usage(k.Usage), k.Status, Count(k.CurrentVersion), Table.Time(k.CreatedAt)]));

    private static string Usage(string[] usage) => usage.Length == 0 ? "NONE" : string.Join(',', usage);

    private static string Count(long n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
