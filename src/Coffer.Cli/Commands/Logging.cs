using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Coffer.Cli.Commands;

/// <summary>The server's log: one line per event, UTC timestamps, framework chatter at warning.</summary>
internal static class Logging
{
    public static ILoggerFactory Create(string format, LogLevel level) => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(level);
        builder.AddFilter("Microsoft", LogLevel.Warning);
        if (format == "json")
        {
            builder.AddJsonConsole(o => { o.UseUtcTimestamp = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ "; });
        }
        else
        {
            builder.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                o.ColorBehavior = LoggerColorBehavior.Disabled;
            });
        }
    });
}
