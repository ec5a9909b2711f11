using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Hosting;

/// <summary>
/// Coffer's files are for the user it runs as alone: the database holds the audit trail (principal
/// and key ARNs, source addresses), key names and token hashes, and next to it lie the dev seal's
/// master key, TLS keys, audit files and archives. Directories are 0700 and files 0600, whatever the
/// umask Coffer was started with (docs/architecture.md, "Files on disk").
/// </summary>
/// <remarks>
/// Two layers, because not every file is Coffer's own code's to create: SQLite creates the -wal and
/// -shm files, SoftHSM2 its token files, and libraries their temporary files. The process umask
/// (<see cref="RestrictUmask"/>, set by <c>coffer server</c> and <c>coffer dev</c> before anything
/// else) covers every one of them; explicit modes on what Coffer creates itself cover it when it runs
/// inside another process whose umask is not its to change (the tests, an embedding host).
/// </remarks>
internal static partial class OwnerOnlyFiles
{
    /// <summary>rw------- (0600).</summary>
    private const UnixFileMode FilePermissions = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>rwx------ (0700).</summary>
    private const UnixFileMode DirectoryPermissions = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>umask 077: every file and directory this process creates from now on, by any code,
    /// has no group or other permissions. Process-wide, so only the process's entry point calls it.</summary>
    internal static void RestrictUmask()
    {
        if (!OperatingSystem.IsWindows())
        {
            // The mask clears exactly these bits (077); UnixFileMode has the POSIX values.
            _ = umask((uint)GroupOrOthers);
        }
    }

    /// <summary>Creates the directory (and missing parents) 0700. An existing one keeps its mode: it
    /// is the operator's, and may be shared on purpose; <see cref="EnsureDataDirectory"/> warns.</summary>
    internal static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, DirectoryPermissions);
        }
    }

    /// <summary>Creates the data directory 0700, or warns (event 1106) when it already exists and
    /// lets its group or other users in.</summary>
    internal static void EnsureDataDirectory(string path, ILogger logger)
    {
        if (!OperatingSystem.IsWindows() && Directory.Exists(path) && File.GetUnixFileMode(path) is var mode && (mode & GroupOrOthers) != 0)
        {
            Log.DataDirectoryOpen(logger, Path.GetFullPath(path), Octal(mode));
        }

        CreateDirectory(path);
    }

    /// <summary>Opens a file, made 0600: created so when new, and narrowed to it when it exists (an
    /// existing file keeps its mode on open).</summary>
    internal static FileStream Open(string path, FileStreamOptions options)
    {
        if (OperatingSystem.IsWindows())
        {
            return new FileStream(path, options);
        }

        options.UnixCreateMode = FilePermissions;
        var file = new FileStream(path, options);
        File.SetUnixFileMode(file.SafeFileHandle, FilePermissions);
        return file;
    }

    private static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)(mode & (DirectoryPermissions | GroupOrOthers)), 8);

    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial uint umask(uint mask);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1106, Level = LogLevel.Warning, Message = "The data directory {Path} has mode {Mode}: other users may read the audit trail, key names and token hashes in it. Run: chmod 700 {Path}")]
        public static partial void DataDirectoryOpen(ILogger logger, string path, string mode);
    }
}
