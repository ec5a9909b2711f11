namespace Coffer.Crypto;

/// <summary>
/// The master keys a node holds: the <see cref="Current"/> one, which seals everything new and opens
/// the check value, and during a rekey the other generation (the next key before the switch, the
/// retired one after it), so a value sealed under either opens (docs/master-key.md, "coffer rekey").
/// </summary>
/// <remarks>
/// Thread-safe: <see cref="Set"/> swaps one immutable pair, so a reader sees the old pair or the new
/// one, never half of each. It owns no key: whoever sets them disposes them, after they are dropped.
/// Trying a second key costs one AES-GCM tag check, and only where stored data is opened (a key ring
/// load, a credential export, a webhook delivery), never on the XKS hot path, which uses keys already
/// opened.
/// </remarks>
public sealed class MasterKeyGenerations
{
    private volatile Pair _pair;

    public MasterKeyGenerations(MasterKey current) => _pair = new Pair(current ?? throw new ArgumentNullException(nameof(current)), []);

    /// <summary>The key that seals new data.</summary>
    public MasterKey Current => _pair.Current;

    /// <summary>The other generations, tried after <see cref="Current"/> when opening.</summary>
    public IReadOnlyList<MasterKey> Others => _pair.Others;

    /// <summary>Replaces both at once; the caller disposes any key it dropped.</summary>
    public void Set(MasterKey current, IReadOnlyList<MasterKey> others)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(others);
        _pair = new Pair(current, [.. others]);
    }

    /// <summary>Opens with the current key, else with each other generation; throws the current key's
    /// <see cref="CryptoException"/> when none opens it.</summary>
    public byte[] Open(string purpose, string context, ReadOnlySpan<byte> sealedData) =>
        TryOpen(purpose, context, sealedData, out var opened, out _) ? opened : Current.Open(purpose, context, sealedData);

    /// <summary>Opens with whichever generation sealed it; <paramref name="underCurrent"/> says whether
    /// that was the current key. False when none opens it.</summary>
    public bool TryOpen(string purpose, string context, ReadOnlySpan<byte> sealedData, out byte[] opened, out bool underCurrent)
    {
        var pair = _pair;
        underCurrent = true;
        foreach (var key in pair.All)
        {
            try
            {
                opened = key.Open(purpose, context, sealedData);
                return true;
            }
            catch (CryptoException)
            {
                underCurrent = false;
            }
        }

        opened = [];
        return false;
    }

    private sealed record Pair(MasterKey Current, MasterKey[] Others)
    {
        public IEnumerable<MasterKey> All => Others.Prepend(Current);
    }
}
