using System.CommandLine;
using System.Globalization;

namespace Coffer.Cli.Commands;

/// <summary>
/// An option that takes a point in time. ISO 8601; a time without an offset is UTC, as every time
/// Coffer prints is, so a command means the same on any machine (the runtime's default would take the
/// machine's local zone). A time that does not parse is refused with the form it should have.
/// </summary>
internal static class TimeOption
{
    public static Option<DateTimeOffset?> Create(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "time",
        CustomParser = result =>
        {
            var text = string.Join(' ', result.Tokens.Select(t => t.Value));
            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
            {
                return time;
            }

            result.AddError($"{name} takes a time in ISO 8601, e.g. 2026-01-31T00:00:00Z or 2026-01-31 (UTC unless an offset is given), not '{text}'.");
            return null;
        },
    };
}
