namespace Coffer.Storage.Tests.Conformance;

public abstract partial class RepositoryConformanceTests
{
    [Fact]
    public async Task Traffic_of_every_node_is_summed_by_minute_outcome_and_answer_and_old_minutes_go()
    {
        var traffic = ((ICofferStorage)Store.Lifetime).Traffic;
        await traffic.AddAsync("node-a", 100, [new(0, "ok", "success", 5), new(0, "denied", "InvalidStateException", 1)], keepFrom: 0);
        await traffic.AddAsync("node-b", 100, [new(0, "ok", "success", 7)], keepFrom: 0);
        await traffic.AddAsync("node-a", 100, [new(0, "ok", "success", 2)], keepFrom: 0);
        await traffic.AddAsync("node-a", 101, [new(0, "error", "ValidationException", 3)], keepFrom: 0);

        Assert.Equal(
            [new(100, "denied", "InvalidStateException", 1), new(100, "ok", "success", 14), new(101, "error", "ValidationException", 3)],
            await traffic.ListAsync(100));
        Assert.Equal([new TrafficCount(101, "error", "ValidationException", 3)], await traffic.ListAsync(101));

        await traffic.AddAsync("node-b", 102, [], keepFrom: 101);
        Assert.Equal([new TrafficCount(101, "error", "ValidationException", 3)], await traffic.ListAsync(0));
    }
}
