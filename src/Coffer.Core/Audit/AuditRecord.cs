namespace Coffer.Audit;

/// <summary>
/// One link of the audit chain: an <see cref="AuditEvent"/> with its place (sequence, time, node)
/// and <c>Hash = SHA-256(PrevHash || canonical(record))</c> (docs/formats.md, "Audit record").
/// </summary>
/// <remarks>Immutable; the arrays are owned by the record and never changed after construction.</remarks>
public sealed class AuditRecord
{
    public const int HashSize = 32;

    /// <summary>The PrevHash of record 1: 32 zero bytes.</summary>
    public static ReadOnlySpan<byte> GenesisHash => new byte[HashSize];

    /// <summary>A record exactly as stored (no normalisation, no hashing): what the verifier and the
    /// storage read back.</summary>
    public AuditRecord(AuditEvent auditEvent, long sequence, DateTimeOffset time, string node, byte[] prevHash, byte[] hash)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(prevHash);
        ArgumentNullException.ThrowIfNull(hash);
        Event = auditEvent;
        Sequence = sequence;
        Time = time;
        Node = node;
        PrevHash = prevHash;
        Hash = hash;
    }

    public AuditEvent Event { get; }

    /// <summary>1, 2, 3, ... without gaps.</summary>
    public long Sequence { get; }

    /// <summary>UTC, millisecond precision.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>The node that wrote the record (CofferOptions.NodeId).</summary>
    public string Node { get; }

    public byte[] PrevHash { get; }

    public byte[] Hash { get; }

    /// <summary>The canonical body of <see cref="Event"/> and <see cref="Node"/>
    /// (<see cref="AuditCanonical.EncodeBody"/>): the form the audit store keeps. Kept from when the
    /// record was made, so the single writer never encodes it again; made on first use otherwise.</summary>
    /// <remarks>Never what the verifier checks: it recomputes the hash from the fields.</remarks>
    public ReadOnlyMemory<byte> Body => _body ??= AuditCanonical.EncodeBody(Event, Node);

    private byte[]? _body;

    /// <summary>
    /// The next link after <paramref name="prevHash"/>: the event normalised (see
    /// <see cref="AuditCanonical.Normalize"/>), the time cut to milliseconds, the hash computed.
    /// </summary>
    public static AuditRecord Create(AuditEvent auditEvent, long sequence, DateTimeOffset time, string node, ReadOnlySpan<byte> prevHash)
    {
        var normalized = AuditCanonical.Normalize(auditEvent);
        var safeNode = NormalizeNode(node);
        return CreatePrepared(normalized, safeNode, AuditCanonical.EncodeBody(normalized, safeNode), sequence, time, prevHash);
    }

    /// <summary>A node name as records carry it (see <see cref="AuditCanonical.NormalizeText"/>).</summary>
    public static string NormalizeNode(string node) => AuditCanonical.NormalizeText(node, AuditCanonical.MaxFieldLength) ?? string.Empty;

    /// <summary><see cref="Create"/> for an event that <see cref="AuditCanonical.Normalize"/> already
    /// returned, whose <see cref="AuditCanonical.EncodeBody"/> with <paramref name="node"/> (from
    /// <see cref="NormalizeNode"/>) is <paramref name="body"/>, kept as <see cref="Body"/> and never
    /// changed: the audit log makes both on its callers' threads, so the single writer only numbers,
    /// hashes and copies.</summary>
    internal static AuditRecord CreatePrepared(AuditEvent normalized, string node, byte[] body, long sequence, DateTimeOffset time, ReadOnlySpan<byte> prevHash)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sequence, 1);
        if (prevHash.Length != HashSize)
        {
            throw new ArgumentException("A previous hash is 32 bytes.", nameof(prevHash));
        }

        var at = DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds());
        var hash = AuditCanonical.ComputeHash(prevHash, sequence, at, body);
        return new AuditRecord(normalized, sequence, at, node, prevHash.ToArray(), hash) { _body = body };
    }

    /// <summary>Whether this record is the next link after <paramref name="head"/>: its sequence is one
    /// more and its PrevHash is the head's hash.</summary>
    public bool Follows(AuditHead head) => Sequence == head.Sequence + 1 && PrevHash.AsSpan().SequenceEqual(head.Hash);

    /// <summary>Recomputes the hash from the stored fields (what the verifier compares with <see cref="Hash"/>).</summary>
    public byte[] ComputeHash() => AuditCanonical.ComputeHash(PrevHash, Event, Sequence, Time, Node);
}

/// <summary>
/// A MAC over the chain head at <see cref="Sequence"/>, made with a key only the unsealed server has,
/// so an editor of the database cannot rebuild a chain that verifies (docs/formats.md, "Audit checkpoint").
/// </summary>
public sealed record AuditCheckpoint(long Sequence, byte[] Hash, DateTimeOffset Time, byte[] Mac);

/// <summary>The last record of a chain: its sequence number and hash. Sequence 0 is the empty chain.</summary>
public readonly record struct AuditHead(long Sequence, byte[] Hash)
{
    public static AuditHead Empty => new(0, new byte[AuditRecord.HashSize]);
}
