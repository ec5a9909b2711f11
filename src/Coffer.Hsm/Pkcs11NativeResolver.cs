using System.Runtime.InteropServices;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Coffer.Hsm;

/// <summary>
/// Pkcs11Interop 5.3.0 loads modules through <c>dlopen</c> imported from "libdl". glibc 2.34 and later
/// (Debian 12, Ubuntu 22.04) ship only <c>libdl.so.2</c>, so that import fails with
/// DllNotFoundException; this resolver maps it to <c>libdl.so.2</c> (and then libc) for the
/// Pkcs11Interop assembly only.
/// </summary>
internal static class Pkcs11NativeResolver
{
    private static readonly Lock Gate = new();
    private static bool _registered;

    public static void EnsureRegistered()
    {
        lock (Gate)
        {
            if (_registered)
            {
                return;
            }

            try
            {
                NativeLibrary.SetDllImportResolver(typeof(Pkcs11InteropFactories).Assembly, Resolve);
            }
            catch (InvalidOperationException)
            {
                // Someone in this process registered a resolver for Pkcs11Interop already; theirs wins.
            }

            _registered = true;
        }
    }

    private static IntPtr Resolve(string name, System.Reflection.Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name == "libdl" && !OperatingSystem.IsWindows() && !OperatingSystem.IsMacOS())
        {
            foreach (var candidate in new[] { "libdl.so.2", "libc.so.6" })
            {
                if (NativeLibrary.TryLoad(candidate, out var handle))
                {
                    return handle;
                }
            }
        }

        return IntPtr.Zero;
    }
}
