using Coffer.Testing;

namespace Coffer.Console.Tests;

/// <summary>One node for a whole test class (xUnit <c>IClassFixture</c>): the console suite is bounded by
/// its time, and a node start is its dearest step. Tests that share it use names of their own (regions,
/// keys), so they pass in any order.</summary>
public sealed class ConsoleNode : IAsyncLifetime
{
    public DevServer Node { get; private set; } = null!;

    public async Task InitializeAsync() => Node = await DevServer.StartAsync();

    public async Task DisposeAsync() => await Node.DisposeAsync();
}
