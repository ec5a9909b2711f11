using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Coffer.Cli.Output;

/// <summary>--json output: the API's own JSON, indented for people, unchanged otherwise.</summary>
internal static class Json
{
    private static readonly JsonWriterOptions Indented = new()
    {
        Indented = true,

        // Terminal and file output, never HTML: keep '+' in Base64 shares and secrets readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Write(TextWriter writer, string json)
    {
        using var document = JsonDocument.Parse(json);
        writer.WriteLine(Indent(document.RootElement));
    }

    public static string Indent(JsonElement element)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Indented))
        {
            element.WriteTo(json);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
