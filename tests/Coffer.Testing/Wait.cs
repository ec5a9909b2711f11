namespace Coffer.Testing;

/// <summary>Polls for state a server changes on its own threads; bounded, so a regression fails
/// instead of hanging.</summary>
public static class Wait
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    public static Task UntilAsync(Func<bool> condition, string what) => UntilAsync(() => Task.FromResult(condition()), what);

    /// <summary>As <see cref="UntilAsync(Func{bool}, string)"/>, for a condition that asks the server (a call).</summary>
    /// <param name="patience">Longer than <see cref="Patience"/> only for what waits on whole processes to
    /// start (<see cref="CofferNode.StartPatience"/>), which a loaded machine slows most.</param>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? patience = null)
    {
        var bound = patience ?? Patience;
        var deadline = DateTime.UtcNow + bound;
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"Waited {bound.TotalSeconds:0} s for {what}.");
            }

            await Task.Delay(10);
        }
    }
}
