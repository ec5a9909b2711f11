namespace Coffer.Auth;

/// <summary>
/// Management roles and what each may do. A role is a set of <see cref="Permissions"/>;
/// administrator holds every permission, including that of any endpoint that names none.
/// </summary>
public static class Roles
{
    public const string Administrator = "administrator";

    /// <summary>Key stores, credentials, keys and their lifecycle, access rules, rotation.</summary>
    public const string KeyOfficer = "key-officer";

    /// <summary>Votes on approval requests; reads keys, key stores, credentials, kill switches and access rules to judge them.</summary>
    public const string Approver = "approver";

    /// <summary>Reads everything and the audit log; changes nothing.</summary>
    public const string Auditor = "auditor";

    /// <summary>Kill switch and seal: the emergency levers; reads keys and key stores.</summary>
    public const string Operator = "operator";

    private static readonly Dictionary<string, HashSet<string>> Grants = new(StringComparer.Ordinal)
    {
        [KeyOfficer] =
        [
            Permissions.KeyStoresRead, Permissions.KeyStoresWrite, Permissions.CredentialsRead, Permissions.CredentialsWrite,
            Permissions.KeysRead, Permissions.KeysWrite, Permissions.KeysDestroy, Permissions.KillSwitchRead,
            Permissions.PoliciesRead, Permissions.PoliciesWrite, Permissions.ApprovalsRead, Permissions.ApprovalsWrite, Permissions.QuorumRead,
        ],
        [Approver] =
        [
            Permissions.KeyStoresRead, Permissions.KeysRead, Permissions.CredentialsRead, Permissions.KillSwitchRead, Permissions.PoliciesRead,
            Permissions.ApprovalsRead, Permissions.ApprovalsVote, Permissions.QuorumRead,
        ],
        [Auditor] =
        [
            Permissions.KeyStoresRead, Permissions.CredentialsRead, Permissions.KeysRead, Permissions.AuditRead,
            Permissions.KillSwitchRead, Permissions.TokensRead, Permissions.MetricsRead, Permissions.AlertsRead, Permissions.PoliciesRead,
            Permissions.IdentitiesRead, Permissions.ApprovalsRead, Permissions.QuorumRead,
        ],
        [Operator] =
        [
            Permissions.KeyStoresRead, Permissions.KeysRead, Permissions.KillSwitchRead, Permissions.KillSwitchWrite, Permissions.Seal,
            Permissions.MetricsRead, Permissions.ApprovalsRead, Permissions.ApprovalsWrite, Permissions.QuorumRead,
        ],
    };

    /// <summary>The built-in roles; administrators may add custom ones (<see cref="CustomRole"/>).</summary>
    public static IReadOnlyList<string> All { get; } = [Administrator, KeyOfficer, Approver, Auditor, Operator];

    public static bool IsBuiltIn(string? role) => role is not null && (role == Administrator || Grants.ContainsKey(role));

    /// <summary>The permissions of a built-in role (administrator: every one).</summary>
    public static IReadOnlyCollection<string> PermissionsOf(string role) =>
        role == Administrator ? Permissions.All : Grants.TryGetValue(role, out var granted) ? granted : [];

    /// <summary>Whether <paramref name="role"/> holds <paramref name="permission"/>; null (an endpoint
    /// that names no permission) is administrator-only, so a new endpoint is never open by accident.</summary>
    public static bool Allows(string role, string? permission) =>
        role == Administrator || (permission is not null && Grants.TryGetValue(role, out var granted) && granted.Contains(permission));
}

/// <summary>Fine-grained management permissions; each endpoint names the one it needs.</summary>
public static class Permissions
{
    /// <summary>Every permission defined here, for custom roles and listings.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        .. typeof(Permissions).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(field => field.IsLiteral).Select(field => (string)field.GetRawConstantValue()!).Order(StringComparer.Ordinal),
    ];

    public static bool IsKnown(string? permission) => permission is not null && All.Contains(permission, StringComparer.Ordinal);

    public const string KeyStoresRead = "keystores.read";
    public const string KeyStoresWrite = "keystores.write";
    public const string CredentialsRead = "credentials.read";
    public const string CredentialsWrite = "credentials.write";
    public const string KeysRead = "keys.read";
    public const string KeysWrite = "keys.write";
    public const string KeysDestroy = "keys.destroy";
    public const string AuditRead = "audit.read";
    public const string AuditArchive = "audit.archive";
    public const string KillSwitchRead = "killswitch.read";
    public const string KillSwitchWrite = "killswitch.write";
    public const string Seal = "seal";

    /// <summary>Re-split the unseal shares, rekey the master key and migrate the seal (docs/master-key.md);
    /// no built-in role but administrator holds it.</summary>
    public const string MasterKey = "master-key";
    public const string TokensRead = "tokens.read";
    public const string TokensWrite = "tokens.write";
    public const string MetricsRead = "metrics.read";
    public const string AlertsRead = "alerts.read";
    public const string AlertsWrite = "alerts.write";

    /// <summary>Read access rules and region sets, and simulate decisions.</summary>
    public const string PoliciesRead = "policies.read";

    /// <summary>Set and clear access rules; define region sets.</summary>
    public const string PoliciesWrite = "policies.write";

    /// <summary>List users, apps and roles.</summary>
    public const string IdentitiesRead = "identities.read";

    /// <summary>Create, change and disable users and apps; define custom roles.</summary>
    public const string IdentitiesWrite = "identities.write";

    /// <summary>List and show approval requests.</summary>
    public const string ApprovalsRead = "approvals.read";

    /// <summary>Cancel one's own approval requests and fetch their kept answers.</summary>
    public const string ApprovalsWrite = "approvals.write";

    /// <summary>Approve or deny requests (also needs membership of the request's approver group).</summary>
    public const string ApprovalsVote = "approvals.vote";

    public const string QuorumRead = "quorum.read";

    /// <summary>Create, replace and delete quorum policies (administrators only by default).</summary>
    public const string QuorumWrite = "quorum.write";
}
