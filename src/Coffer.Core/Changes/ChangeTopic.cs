namespace Coffer.Changes;

/// <summary>
/// What a committed write changed, as fine as a node's in-memory copies of the database need it:
/// each topic names the state one or more caches reload (docs/architecture.md, "Changes"). Tokens,
/// principals, roles and quorum policies have no topic because no node keeps a copy of them: they are
/// read from storage at each call. The numbers travel between nodes; never reuse one.
/// </summary>
public enum ChangeTopic
{
    /// <summary>Key stores, their SigV4 credentials, keys and versions: the key ring.</summary>
    KeyRing = 1,

    /// <summary>Kill switches engaged or released.</summary>
    KillSwitches = 2,

    /// <summary>The access rule documents of key stores and keys.</summary>
    AccessRules = 3,

    /// <summary>User region sets, which both access rules and region kill switches name.</summary>
    RegionSets = 4,
}
