using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Coffer.Server.Hosting;

/// <summary>
/// One long-lived part of a node (storage, the audit writer, a listener...): opened when the node's
/// host starts it and closed when the host stops it. The host starts its hosted services in the order
/// they were registered (<see cref="CofferNode"/>) and stops them in reverse, so a part is closed only
/// after every part registered later, which may use it. A part that was never opened (a part before it
/// failed to start) has nothing to close.
/// </summary>
internal sealed class NodePart<T>(IServiceProvider node, Func<IServiceProvider, CancellationToken, Task<T>> open, Func<T, ValueTask> close)
    : IHostedService
    where T : class
{
    private T? _value;
    private int _closed;

    /// <summary>The opened part. Only parts registered after it ask, once it is open.</summary>
    public T Value => _value
        ?? throw new InvalidOperationException($"{typeof(T).Name} was asked for before the node opened it: register what needs it after it (Hosting/CofferNode.cs).");

    public async Task StartAsync(CancellationToken cancellationToken) => _value = await open(node, cancellationToken);

    /// <summary>Closes the part once, however often the host is stopped; the value stays readable
    /// (closed) for whoever still holds the server.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_value is { } value && Interlocked.Exchange(ref _closed, 1) == 0)
        {
            await close(value);
        }
    }
}

/// <summary>Work done once at start (a check, loading a view, starting an opened part's loop), and
/// undone at stop when it has an <paramref name="undo"/> and ran to the end.</summary>
internal sealed class StartStep(IServiceProvider node, Func<IServiceProvider, CancellationToken, Task> run, Func<IServiceProvider, ValueTask>? undo) : IHostedService
{
    private int _state; // 0 not run, 1 ran, 2 undone

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await run(node, cancellationToken);
        _state = 1;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (undo is not null && Interlocked.CompareExchange(ref _state, 2, 1) == 1)
        {
            await undo(node);
        }
    }
}

internal static class NodeParts
{
    /// <summary>Adds a part, opened after every part and step registered before it.</summary>
    public static IServiceCollection AddPart<T>(this IServiceCollection services, Func<IServiceProvider, CancellationToken, Task<T>> open, Func<T, ValueTask> close)
        where T : class
    {
        services.AddSingleton(node => new NodePart<T>(node, open, close));
        // A part is a hosted service of its own type, so each is added once and in this order.
        services.AddSingleton<IHostedService>(node => node.GetRequiredService<NodePart<T>>());
        return services;
    }

    /// <summary>Adds a step, run after every part and step registered before it; its
    /// <paramref name="undo"/>, if any, runs at stop before theirs are closed.</summary>
    public static IServiceCollection AddStartStep(this IServiceCollection services, Func<IServiceProvider, CancellationToken, Task> run, Func<IServiceProvider, ValueTask>? undo = null) =>
        services.AddSingleton<IHostedService>(node => new StartStep(node, run, undo));

    /// <summary>The opened part <typeparamref name="T"/> of this node.</summary>
    public static T Part<T>(this IServiceProvider node)
        where T : class => node.GetRequiredService<NodePart<T>>().Value;
}
