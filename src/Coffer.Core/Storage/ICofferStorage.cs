namespace Coffer.Storage;

/// <summary>One opened database with its repositories (SQLite by default, PostgreSQL for clusters).</summary>
public interface ICofferStorage : IDisposable
{
    IKeyStoreRepository KeyStores { get; }

    IKeyRepository Keys { get; }

    ISystemRepository System { get; }

    IAuditRepository Audit { get; }

    IKillSwitchRepository KillSwitches { get; }

    IAlertRepository Alerts { get; }
    IPolicyRepository Policies { get; }
    IRotationRepository Rotation { get; }

    IPrincipalRepository Principals { get; }

    IApprovalRepository Approvals { get; }

    /// <summary>Every value sealed under the master key, for a rekey.</summary>
    ISealedDataRepository SealedData { get; }

    /// <summary>The node registry and the leader lease (docs/cluster.md).</summary>
    IClusterRepository Cluster { get; }

    /// <summary>The web console's login sessions (docs/console.md).</summary>
    IConsoleSessionRepository ConsoleSessions { get; }

    /// <summary>XKS calls per minute, for the console's Overview (docs/console.md).</summary>
    ITrafficRepository Traffic { get; }
}
