using System.Text;
using Coffer.Server.Logging;
using Microsoft.Extensions.Logging;

namespace Coffer.Testing;

/// <summary>
/// The server's log as <c>coffer server</c> writes it to standard output (BatchedConsoleLoggerProvider,
/// in text and in JSON), kept in memory: what an operator or a log shipper reads, byte for byte.
/// </summary>
public sealed class ConsoleLogs : IDisposable
{
    private readonly Output _text = new();
    private readonly Output _json = new();
    private readonly BatchedLogWriter _textWriter;
    private readonly BatchedLogWriter _jsonWriter;

    public ConsoleLogs()
    {
        _textWriter = new BatchedLogWriter(_text);
        _jsonWriter = new BatchedLogWriter(_json);
        Text = new BatchedConsoleLoggerProvider(_textWriter, json: false);
        Json = new BatchedConsoleLoggerProvider(_jsonWriter, json: true);
    }

    public ILoggerProvider Text { get; }

    public ILoggerProvider Json { get; }

    /// <summary>Everything logged so far in the text format.</summary>
    public string TextOutput()
    {
        _textWriter.Flush();
        return _text.Snapshot();
    }

    /// <summary>Everything logged so far in the JSON format, one object a line.</summary>
    public string JsonOutput()
    {
        _jsonWriter.Flush();
        return _json.Snapshot();
    }

    public void Dispose()
    {
        _textWriter.Dispose();
        _jsonWriter.Dispose();
    }

    /// <summary>A memory stream that the writer's flusher thread and a test may use at once.</summary>
    private sealed class Output : MemoryStream
    {
        private readonly Lock _lock = new();

        // A MemoryStream subclass gets every write here (MemoryStream hands spans to Stream's copy).
        public override void Write(byte[] buffer, int offset, int count)
        {
            lock (_lock)
            {
                base.Write(buffer, offset, count);
            }
        }

        public string Snapshot()
        {
            lock (_lock)
            {
                return Encoding.UTF8.GetString(GetBuffer(), 0, (int)Length);
            }
        }
    }
}
