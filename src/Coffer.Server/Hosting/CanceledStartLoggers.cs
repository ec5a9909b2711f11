using Microsoft.Extensions.Logging;

namespace Coffer.Server.Hosting;

/// <summary>
/// The node's loggers, less one record: the hosts' "Hosting failed to start" error (with its stack
/// trace) for a start that its caller canceled. An operator who stops a node while it starts (SIGTERM,
/// Ctrl+C) asked for that stop; <see cref="CofferServer.StartAsync(CofferOptions, ILoggerFactory, TimeProvider?, CancellationToken)"/>
/// closes what had opened and the caller says it stopped. Every other record, a real start failure's
/// included, passes through.
/// </summary>
internal sealed class CanceledStartLoggers(ILoggerFactory loggers, CancellationToken start) : ILoggerFactory
{
    // Microsoft.Extensions.Hosting's own host (the node's, and each listener's), and its
    // HostedServiceStartupFaulted event.
    private const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";
    private const int StartupFaulted = 11;

    public ILogger CreateLogger(string categoryName)
    {
        var logger = loggers.CreateLogger(categoryName);
        return categoryName == HostCategory ? new HostLogger(logger, start) : logger;
    }

    public void AddProvider(ILoggerProvider provider) => loggers.AddProvider(provider);

    /// <summary>Nothing: the factory is its caller's, who disposes it.</summary>
    public void Dispose()
    {
    }

    private sealed class HostLogger(ILogger logger, CancellationToken start) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => logger.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logger.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == StartupFaulted && exception is OperationCanceledException && start.IsCancellationRequested)
            {
                return;
            }

            logger.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
