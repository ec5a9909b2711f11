using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Coffer.Cli.Output;

/// <summary>
/// Tables and name/value lists through Spectre.Console, written to the verb's own writer (so tests
/// read it) without colours or ANSI codes. Cells are plain <see cref="Text"/>, never markup:
/// names and descriptions come from users and may contain '['.
/// </summary>
internal static class Table
{
    /// <summary>Wide enough that ids and timestamps do not wrap when output goes to a file or pipe.</summary>
    private const int RedirectedWidth = 200;

    public static void Write(TextWriter writer, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var table = new Spectre.Console.Table().Border(TableBorder.Simple);
        foreach (var header in headers)
        {
            table.AddColumn(new TableColumn(new Text(header)));
        }

        foreach (var row in rows)
        {
            table.AddRow(row.Select(cell => (IRenderable)new Text(cell)).ToArray());
        }

        Render(writer, table);
    }

    /// <summary>One "name  value" line per property, aligned.</summary>
    public static void Properties(TextWriter writer, IEnumerable<(string Name, string Value)> properties)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        foreach (var (name, value) in properties)
        {
            grid.AddRow(new Text(name), new Text(value));
        }

        Render(writer, grid);
    }

    public static string Time(DateTimeOffset? time) =>
        time?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "-";

    public static string YesNo(bool value) => value ? "yes" : "no";

    private static void Render(TextWriter writer, IRenderable renderable)
    {
        using var buffer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(buffer),
        });
        console.Profile.Width = ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected
            ? Math.Max(Console.WindowWidth, 40)
            : RedirectedWidth;
        console.Write(renderable);

        // Spectre pads every cell to its column's width and draws the simple border's empty top
        // and bottom lines; trailing blanks only get in the way of copying a value or grepping.
        var lines = buffer.ToString().ReplaceLineEndings("\n").Split('\n').Select(line => line.TrimEnd()).ToList();
        foreach (var line in lines.SkipWhile(line => line.Length == 0).Reverse().SkipWhile(line => line.Length == 0).Reverse())
        {
            writer.WriteLine(line);
        }
    }
}
