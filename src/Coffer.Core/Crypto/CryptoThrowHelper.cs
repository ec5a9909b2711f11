using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Coffer.Crypto;

/// <summary>
/// Throws for the crypto hot paths from methods that are never inlined, so the callers stay small
/// (Npgsql's ThrowHelper, docs/style.md practice 6). Messages never carry secrets.
/// </summary>
internal static class CryptoThrowHelper
{
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowArgument(string paramName, string message) => throw new ArgumentException(message, paramName);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowObjectDisposed(object instance) => throw new ObjectDisposedException(instance.GetType().FullName);
}
