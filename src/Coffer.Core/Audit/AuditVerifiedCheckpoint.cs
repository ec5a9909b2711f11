namespace Coffer.Audit;

/// <summary>
/// Where the last successful verify ended (docs/formats.md, "Audit verified checkpoint"): "every record
/// through sequence S was verified, and S's hash is H". Its MAC is the checkpoint's layout under its own
/// label, <c>HMAC-SHA256(auditKey, "coffer-audit-verified-v1" || u64be(S) || H || u64be(unix ms))</c>,
/// so storage can neither forge one nor pass a writer's checkpoint (which only says the writer wrote H
/// at S) off as one. An incremental verify starts after it (docs/audit-verify.md).
/// </summary>
public static class AuditVerifiedCheckpoint
{
    private static ReadOnlySpan<byte> Label => "coffer-audit-verified-v1"u8;

    public static AuditCheckpoint Create(ReadOnlySpan<byte> key, long sequence, byte[] hash, DateTimeOffset time) =>
        AuditCheckpointMac.Create(Label, key, sequence, hash, time);

    /// <summary>Constant-time check of its MAC; false (never an exception) for a malformed one.</summary>
    public static bool IsValid(ReadOnlySpan<byte> key, AuditCheckpoint verified) => AuditCheckpointMac.IsValid(Label, key, verified);
}
