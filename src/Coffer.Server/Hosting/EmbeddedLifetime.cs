using Microsoft.Extensions.Hosting;

namespace Coffer.Server.Hosting;

/// <summary>
/// A host embedded in its caller's process (coffer server, coffer dev, a test), started and stopped by
/// that caller alone: it listens for no signals. The process's SIGINT and SIGTERM belong to the CLI,
/// which stops every node it runs.
/// </summary>
internal sealed class EmbeddedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
