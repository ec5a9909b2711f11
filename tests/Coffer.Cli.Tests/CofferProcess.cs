using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary>
/// The built executable as a long-running child process (<c>coffer dev</c>, <c>coffer server</c>), as a
/// user starts it, under <c>umask 022</c>: the usual default, with which every file a program creates
/// is readable by everyone unless the program says otherwise. Its output is kept for assertions.
/// </summary>
internal static class CofferProcess
{
    /// <param name="environment">Variables to set (or, with null, to unset) besides the defaults.</param>
    public static ChildProcess Start(string workingDirectory, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null)
    {
        // The test runner's own settings must not leak into the child.
        var variables = new Dictionary<string, string?> { [Client.ClientSettings.AddressVariable] = null, [Client.ClientSettings.TokenVariable] = null };
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            variables[name] = value;
        }

        // exec: the shell becomes coffer, so ProcessId is coffer's own.
        return ChildProcess.Start("/bin/sh", ["-c", "umask 022; exec \"$@\"", "sh", .. CofferNode.Executable, .. args], variables, workingDirectory);
    }
}
