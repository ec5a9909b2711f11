namespace Coffer.Secrets;

/// <summary>
/// A file an operator writes a secret into for Coffer to read: the PKCS#11 PIN (docs/pkcs11.md), the
/// identity provider's client secret (docs/console.md). One rule for all of them, so a secret is never
/// kept in a file other users may read or change.
/// </summary>
public static class SecretFile
{
    /// <summary>Other users may neither read nor write it, nor its group write it. A group read is
    /// allowed: a deployment may give the file to a group the service account is in, on purpose.</summary>
    private const UnixFileMode TooOpen = UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.GroupWrite;

    /// <summary>Whether other users may read it or change it (never on Windows, which has no such modes).</summary>
    public static bool IsOpenToOthers(string path) =>
        !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & TooOpen) != 0;

    /// <summary>The secret: the file's text without its trailing line break, which editors add.</summary>
    public static string Read(string path) => File.ReadAllText(path).TrimEnd('\r', '\n');
}
