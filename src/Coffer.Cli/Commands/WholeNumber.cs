using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace Coffer.Cli.Commands;

/// <summary>
/// Parsers for options and arguments that take a whole number: what does not parse, or lies outside
/// the range the command allows, is refused with the option's name, the range and the text given
/// (System.CommandLine's own message names the CLR type, <c>System.Int32</c>, which says nothing to
/// a user).
/// </summary>
internal static class WholeNumber
{
    public static int? Int32(ArgumentResult result) => Parse(result, int.MinValue, int.MaxValue);

    public static long? Int64(ArgumentResult result) => Parse(result, long.MinValue, long.MaxValue);

    /// <summary>For a non-nullable int option or argument (required, or with a default).</summary>
    public static int RequiredInt32(ArgumentResult result) => Parse(result, int.MinValue, int.MaxValue) ?? 0;

    public static Func<ArgumentResult, int?> Int32From(int min, int max) => result => Parse(result, min, max);

    private static T? Parse<T>(ArgumentResult result, T min, T max)
        where T : struct, IBinaryInteger<T>
    {
        var text = string.Join(' ', result.Tokens.Select(t => t.Value));
        if (T.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        var name = result.Parent is OptionResult option ? option.Option.Name : $"<{result.Argument.Name}>";
        result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} takes a whole number from {min} to {max}, not '{text}'."));
        return null;
    }
}
