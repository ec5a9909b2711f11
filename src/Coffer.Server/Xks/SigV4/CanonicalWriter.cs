using System.Buffers;
using System.Text;

namespace Coffer.Server.Xks.SigV4;

/// <summary>
/// Appends UTF-8 into a caller-provided (usually stack) buffer and moves to a pooled array only if
/// it outgrows it, so building a canonical request allocates nothing on the XKS hot path.
/// </summary>
/// <remarks>Not secret material: what goes through here is the canonical request and string to sign.</remarks>
internal ref struct CanonicalWriter
{
    private Span<byte> _buffer;
    private byte[]? _rented;
    private int _length;

    public CanonicalWriter(Span<byte> initial)
    {
        _buffer = initial;
        _rented = null;
        _length = 0;
    }

    public readonly ReadOnlySpan<byte> Written => _buffer[.._length];

    public void Append(char ascii)
    {
        if (_length == _buffer.Length)
        {
            Grow(1);
        }

        _buffer[_length++] = (byte)ascii;
    }

    public void Append(ReadOnlySpan<char> text)
    {
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (_buffer.Length - _length < max)
        {
            Grow(max);
        }

        _length += Encoding.UTF8.GetBytes(text, _buffer[_length..]);
    }

    /// <summary>Lowercase hex, as SigV4 uses for hashes and signatures.</summary>
    public void AppendLowerHex(ReadOnlySpan<byte> bytes)
    {
        if (_buffer.Length - _length < 2 * bytes.Length)
        {
            Grow(2 * bytes.Length);
        }

        var digits = "0123456789abcdef"u8;
        foreach (var b in bytes)
        {
            _buffer[_length++] = digits[b >> 4];
            _buffer[_length++] = digits[b & 0xF];
        }
    }

    /// <summary>'%' and two uppercase hex digits (RFC 3986 2.1; SigV4 requires uppercase).</summary>
    public void AppendPercentEncoded(byte b)
    {
        if (_buffer.Length - _length < 3)
        {
            Grow(3);
        }

        var digits = "0123456789ABCDEF"u8;
        _buffer[_length++] = (byte)'%';
        _buffer[_length++] = digits[b >> 4];
        _buffer[_length++] = digits[b & 0xF];
    }

    public void Dispose()
    {
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
            _rented = null;
        }
    }

    private void Grow(int needed)
    {
        var next = ArrayPool<byte>.Shared.Rent(Math.Max(2 * _buffer.Length, _length + needed));
        _buffer[.._length].CopyTo(next);
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
        }

        _rented = next;
        _buffer = next;
    }
}
