using Coffer.Server.Hosting;
using Xunit;

namespace Coffer.Testing;

/// <summary>
/// One dev node shared by the tests of a class (an xunit class fixture): started once instead of once
/// per test. xunit runs a class's tests one at a time, but in no fixed order and each after the others'
/// changes, so a test on a shared node makes what it changes under names of its own and asserts on
/// those; a test that needs a node nobody else touched (seal state, start-up, a whole-node listing)
/// starts its own. A class whose node needs other settings derives a fixture that overrides
/// <see cref="Configure"/>.
/// </summary>
public class SharedNode : IAsyncLifetime
{
    public DevServer Node { get; private set; } = null!;

    public HttpClient Admin => Node.Admin;

    public async Task InitializeAsync() => Node = await DevServer.StartAsync(Configure);

    public async Task DisposeAsync() => await Node.DisposeAsync();

    /// <summary>Changes to the node's options before it starts; none by default.</summary>
    protected virtual void Configure(CofferOptions options)
    {
    }
}
