using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Logging;

/// <summary>
/// Console logging through a <see cref="BatchedLogWriter"/>: one line per event, as text
/// (<c>2026-01-01T00:00:00.000Z info: Category[1001] message</c>) or as JSON (message, event id and
/// every structured value), so a log shipper can index kmsRequestId and the rest.
/// </summary>
/// <remarks>
/// Every message and value goes through <see cref="LogText"/> here, whoever logged it (Coffer or the
/// framework): a value from a request can never end a line or forge one, even where a caller forgot to
/// escape it. An exception's lines follow its event indented, so only events start at column 0.
/// </remarks>
public sealed class BatchedConsoleLoggerProvider(BatchedLogWriter writer, bool json) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new BatchedLogger(categoryName, writer, json);

    public void Dispose() => writer.Flush();

    private sealed class BatchedLogger(string category, BatchedLogWriter writer, bool json) : ILogger
    {
        [ThreadStatic]
        private static ArrayBufferWriter<byte>? t_buffer;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        // Level filtering is the logger factory's (SetMinimumLevel, AddFilter).
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
            buffer.ResetWrittenCount();
            var now = DateTime.UtcNow;
            var message = LogText.Escape(formatter(state, exception));
            if (json)
            {
                WriteJson(buffer, now, logLevel, eventId, state, message, exception);
            }
            else
            {
                WriteText(buffer, now, logLevel, eventId, message, exception);
            }

            writer.Append(buffer.WrittenSpan);
            if (buffer.Capacity > 64 * 1024)
            {
                t_buffer = null; // don't keep a huge buffer alive for one big exception
            }
        }

        private void WriteText(ArrayBufferWriter<byte> buffer, DateTime now, LogLevel level, EventId eventId, string message, Exception? exception)
        {
            var size = 256 + (message.Length * 3);
            while (true)
            {
                var span = buffer.GetSpan(size);
                if (Utf8.TryWrite(span, System.Globalization.CultureInfo.InvariantCulture,
                        $"{now:yyyy-MM-ddTHH:mm:ss.fff}Z {ShortName(level)}: {category}[{eventId.Id}] {message}", out var written))
                {
                    buffer.Advance(written);
                    break;
                }

                size *= 2;
            }

            if (exception is not null)
            {
                var text = "\n" + LogText.Indented(exception.ToString());
                var span = buffer.GetSpan(text.Length * 3);
                buffer.Advance(System.Text.Encoding.UTF8.GetBytes(text, span));
            }
        }

        private void WriteJson<TState>(ArrayBufferWriter<byte> buffer, DateTime now, LogLevel level, EventId eventId, TState state, string message, Exception? exception)
        {
            using var json = new Utf8JsonWriter(buffer);
            json.WriteStartObject();
            json.WriteString("timestamp", now);
            json.WriteString("level", level.ToString());
            json.WriteString("category", category);
            json.WriteNumber("eventId", eventId.Id);
            json.WriteString("message", message);
            if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
            {
                json.WriteStartObject("state");
                foreach (var (key, value) in values)
                {
                    if (key != "{OriginalFormat}")
                    {
                        json.WriteString(key, LogText.Escape(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)));
                    }
                }

                json.WriteEndObject();
            }

            if (exception is not null)
            {
                json.WriteString("exception", LogText.Indented(exception.ToString()));
            }

            json.WriteEndObject();
        }

        private static string ShortName(LogLevel level) => level switch
        {
            LogLevel.Trace => "trce",
            LogLevel.Debug => "dbug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            _ => "crit",
        };
    }
}
