namespace Coffer.Server.Audit.Retention;

/// <summary>
/// An archive directory a caller names (<c>coffer audit verify --archives DIR</c>): a copy of the archives
/// on the server's machine, such as a mounted WORM share, walked instead of <c>Audit.ArchiveDirectory</c>.
/// Only files named for the ranges the database's MACed rows hold are read in it
/// (<see cref="AuditArchiveFile.PathOf"/>), and only verify's result is answered.
/// </summary>
internal static class AuditArchiveDirectories
{
    /// <summary>Why <paramref name="directory"/> cannot be walked, or null when it can (or none was named).</summary>
    public static string? Refusal(string? directory) => directory switch
    {
        null => null,
        _ when !Path.IsPathFullyQualified(directory) =>
            "archiveDirectory must be an absolute path on the server (the server's working directory is nothing a caller should depend on).",
        _ when !Directory.Exists(directory) => "archiveDirectory is not a directory on the server.",
        _ => null,
    };
}
