using Coffer.Storage;

namespace Coffer.Storage.Tests.Conformance;

/// <summary>
/// What the conformance suite needs from an implementation: a database of its own, opened as often
/// as asked (each call opens the same database again, as a restart would).
/// </summary>
public interface IStorageFactory : IDisposable
{
    Task<OpenedStorage> OpenAsync();

    /// <summary>What the database takes on disk now (SQLite: the pages in use; PostgreSQL: the audit
    /// tables with their indexes and TOAST), to measure what records cost.</summary>
    Task<long> AuditBytesAsync();
}

/// <summary>The ports of one opened storage, and what closes it.</summary>
public sealed record OpenedStorage(
    IKeyStoreRepository KeyStores,
    IKeyRepository Keys,
    ISystemRepository System,
    IAuditRepository Audit,
    IAlertRepository Alerts,
    IRotationRepository Rotation,
    IDisposable Lifetime) : IDisposable
{
    /// <summary>The approval port (reached through the storage, like the policy port).</summary>
    public IApprovalRepository Approvals => (Lifetime as ICofferStorage)?.Approvals
        ?? throw new InvalidOperationException("This storage has no approval repository.");

    /// <summary>The policy port, when the implementation has one (it is reached through the storage).</summary>
    public IPolicyRepository Policies => (Lifetime as ICofferStorage)?.Policies
        ?? throw new InvalidOperationException("This storage has no policy repository.");

    /// <summary>The users, apps and custom roles port, reached like <see cref="Policies"/>.</summary>
    public IPrincipalRepository Principals => (Lifetime as ICofferStorage)?.Principals
        ?? throw new InvalidOperationException("This storage has no principal repository.");

    /// <summary>The web console's sessions, reached like <see cref="Policies"/>.</summary>
    public IConsoleSessionRepository ConsoleSessions => (Lifetime as ICofferStorage)?.ConsoleSessions
        ?? throw new InvalidOperationException("This storage has no console session repository.");

    public void Dispose() => Lifetime.Dispose();
}
