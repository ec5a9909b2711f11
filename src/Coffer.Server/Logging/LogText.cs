using System.Buffers;
using System.Text;

namespace Coffer.Server.Logging;

/// <summary>Makes caller-supplied text safe for a line-based log.</summary>
internal static class LogText
{
    private static readonly SearchValues<char> Unsafe = SearchValues.Create(
        Enumerable.Range(0, 0x20).Select(c => (char)c).Append('\u007f').Append('\u2028').Append('\u2029').ToArray());

    /// <summary>"-" for null; otherwise the text with control characters written as <c>\xNN</c>
    /// (or <c>\uNNNN</c>), so one call is always one log line. Allocates only when it must escape.</summary>
    public static string Escape(string? text)
    {
        if (text is null)
        {
            return "-";
        }

        var first = text.AsSpan().IndexOfAny(Unsafe);
        if (first < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 16);
        builder.Append(text, 0, first);
        foreach (var c in text.AsSpan(first))
        {
            if (Unsafe.Contains(c))
            {
                builder.Append(c < 0x100 ? $"\\x{(int)c:x2}" : $"\\u{(int)c:x4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
