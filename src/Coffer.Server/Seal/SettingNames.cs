namespace Coffer.Server.Seal;

/// <summary>Names of the installation settings kept in storage.</summary>
internal static class SettingNames
{
    public const string SealKind = "seal.kind";
    public const string ShamirShares = "seal.shamir.shares";
    public const string ShamirThreshold = "seal.shamir.threshold";

    /// <summary>The master key sealed under the unseal key the shares rebuild; absent in a data
    /// directory from before the unseal key, whose shares rebuild the master key itself.</summary>
    public const string ShamirSealedMasterKey = "seal.shamir.sealed";
    public const string MasterCheck = "master.check";

    /// <summary>During a rekey (docs/master-key.md, "coffer rekey"): the next master key sealed under the
    /// one it replaces, from the prepare to the retire, so any node holding either can follow.</summary>
    public const string MasterNext = "master.next";

    /// <summary>After a rekey's switch: the replaced master key sealed under the new one, until no row needs it.</summary>
    public const string MasterRetired = "master.retired";

    /// <summary>After a first rekey: the audit checkpoint key (the one derived from the first master
    /// key) sealed under the current master key; absent, the key is derived from the current one.</summary>
    public const string AuditCheckpointKey = "audit.checkpoint.key";
    public const string InitializedAt = "initialized.at";
    public const string Pkcs11SealLabel = "seal.pkcs11.label";
    public const string Pkcs11WrappedMasterKey = "seal.pkcs11.wrapped";
}

/// <summary>How the master key is protected (docs/design.md, "Key hierarchy").</summary>
internal static class SealKinds
{
    public const string Dev = "dev";
    public const string Shamir = "shamir";
    public const string Pkcs11 = "pkcs11";
}
