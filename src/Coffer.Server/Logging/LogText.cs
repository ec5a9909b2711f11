using System.Buffers;
using System.Text;

namespace Coffer.Server.Logging;

/// <summary>Makes text safe for a line-based log: no value can end a line, start a forged one, or
/// steer the terminal it is read on.</summary>
internal static class LogText
{
    /// <summary>What a log line must not carry raw: the C0 controls (CR, LF, ESC...), DEL, the C1
    /// controls (NEL U+0085 breaks lines, CSI U+009B starts terminal sequences) and the Unicode line
    /// and paragraph separators.</summary>
    private static readonly SearchValues<char> Unsafe = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(c => (char)c), .. Enumerable.Range(0x7f, 0x21).Select(c => (char)c), '\u2028', '\u2029']);

    /// <summary>Indentation of continuation lines: an event starts at column 0, nothing else does.</summary>
    private const string Indentation = "    ";

    /// <summary>"-" for null; otherwise the text with every unsafe character written as <c>\xNN</c>
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

    /// <summary>Text of several lines (an exception with its stack trace) as the continuation lines of
    /// an event: each line escaped as by <see cref="Escape"/> and indented, so none of them can pass for
    /// an event of its own, whatever an exception message quotes.</summary>
    public static string Indented(string text) =>
        Indentation + string.Join("\n" + Indentation, text.Split('\n').Select(Escape));
}
