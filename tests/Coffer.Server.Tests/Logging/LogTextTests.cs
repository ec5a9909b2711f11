using Coffer.Server.Logging;

namespace Coffer.Server.Tests.Logging;

public sealed class LogTextTests
{
    /// <summary>Every character that can end a line, start one or drive a terminal, and nothing else.</summary>
    public static TheoryData<int> Unsafe() =>
        [.. Enumerable.Range(0, 0x20), .. Enumerable.Range(0x7f, 0x21), 0x2028, 0x2029];

    [Theory]
    [MemberData(nameof(Unsafe))]
    public void Escape_writes_each_control_and_separator_character_as_an_escape(int code)
    {
        var escaped = LogText.Escape($"a{(char)code}b");

        Assert.Equal(code < 0x100 ? $"a\\x{code:x2}b" : $"a\\u{code:x4}b", escaped);
    }

    [Fact]
    public void Escape_leaves_printable_text_alone()
    {
        const string printable = "arn:aws:iam::123456789012:user/ä-é_ß.€ \\x0a";

        Assert.Same(printable, LogText.Escape(printable));
        Assert.Equal("-", LogText.Escape(null));
    }

    [Fact]
    public void Indented_text_has_no_line_that_passes_for_an_event()
    {
        var indented = LogText.Indented("System.Exception: bad\n2026-12-07T00:00:00.000Z crit: forged\u2028x\r\n   at Somewhere()");

        Assert.Equal(
            "    System.Exception: bad\n    2026-12-07T00:00:00.000Z crit: forged\\u2028x\\x0d\n       at Somewhere()",
            indented);
    }
}
