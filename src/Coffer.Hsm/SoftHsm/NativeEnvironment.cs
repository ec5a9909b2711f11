using System.Runtime.InteropServices;

namespace Coffer.Hsm.SoftHsm;

/// <summary>
/// Sets a variable in the process environment that native code sees. .NET keeps its own copy of
/// the environment on Unix: <see cref="Environment.SetEnvironmentVariable(string, string?)"/>
/// reaches child processes but not <c>getenv()</c> in a loaded module — and SoftHSM2 reads
/// <c>SOFTHSM2_CONF</c> with <c>getenv()</c> at <c>C_Initialize</c>.
/// </summary>
public static partial class NativeEnvironment
{
    public static void Set(string name, string value)
    {
        Environment.SetEnvironmentVariable(name, value);
        if (!OperatingSystem.IsWindows() && setenv(name, value, 1) != 0)
        {
            throw new InvalidOperationException($"setenv({name}) failed.");
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}
