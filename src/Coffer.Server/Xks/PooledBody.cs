using System.Buffers;

namespace Coffer.Server.Xks;

/// <summary>A request body copied into a pooled array, zeroed on return because it holds plaintext.</summary>
internal readonly struct PooledBody : IDisposable
{
    private readonly byte[] _array;
    private readonly int _length;

    private PooledBody(byte[] array, int length)
    {
        _array = array;
        _length = length;
    }

    public ReadOnlySpan<byte> Span => _array.AsSpan(0, _length);

    public static PooledBody Copy(in ReadOnlySequence<byte> source)
    {
        var length = checked((int)source.Length);
        var array = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        source.CopyTo(array);
        return new PooledBody(array, length);
    }

    public void Dispose()
    {
        if (_array is not null)
        {
            Array.Clear(_array, 0, _length);
            ArrayPool<byte>.Shared.Return(_array);
        }
    }
}
