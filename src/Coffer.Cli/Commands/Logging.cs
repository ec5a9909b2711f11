using Coffer.Server.Logging;
using Microsoft.Extensions.Logging;

namespace Coffer.Cli.Commands;

/// <summary>The server's log on standard output: one line per event (text or JSON), UTC times,
/// framework chatter at warning, written in batches so the per-call XKS line stays cheap.</summary>
internal sealed class Logging : IDisposable
{
    private readonly BatchedLogWriter _writer;

    private Logging(BatchedLogWriter writer, ILoggerFactory factory)
    {
        _writer = writer;
        Factory = factory;
    }

    public ILoggerFactory Factory { get; }

    public static Logging Create(string format, LogLevel level)
    {
        var writer = new BatchedLogWriter(Console.OpenStandardOutput());
        var factory = LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(level);
            builder.AddFilter("Microsoft", LogLevel.Warning);
            builder.AddProvider(new BatchedConsoleLoggerProvider(writer, json: format == "json"));
        });
        return new Logging(writer, factory);
    }

    /// <summary>Writes out pending lines (before printing to the console directly).</summary>
    public void Flush() => _writer.Flush();

    public void Dispose()
    {
        Factory.Dispose();
        _writer.Dispose();
    }
}
