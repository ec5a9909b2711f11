using System.Text;
using System.Text.Json;

namespace Coffer.Cli.Output;

/// <summary>Writes a file that holds a secret: readable by its owner only from the first byte.</summary>
internal static class SecretFile
{
    public static async Task WriteAsync(string path, string json, CancellationToken ct)
    {
        // A temporary file created 0600 and then renamed over the target: the secret is never in a
        // file others can read, not even for an instant, and an existing file is replaced whole.
        var directory = Path.GetDirectoryName(path)!;
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            await using (var stream = new FileStream(temp, options))
            {
                using var document = JsonDocument.Parse(json);
                var text = Encoding.UTF8.GetBytes(Json.Indent(document.RootElement) + "\n");
                await stream.WriteAsync(text, ct);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }

            throw new Client.CliException($"cannot write {path}: {e.Message}", e);
        }
    }
}
