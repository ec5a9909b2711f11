namespace Coffer.Storage.Tests.Sqlite;

/// <summary>A database file in a temporary directory of its own, removed afterwards.</summary>
public sealed class TempDatabase : IDisposable
{
    private readonly string _directory =
        Path.Combine(Path.GetTempPath(), "coffer-storage-tests", Guid.NewGuid().ToString("N"));

    public string FilePath => Path.Combine(_directory, "coffer.db");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a connection still closing must not fail the test.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
