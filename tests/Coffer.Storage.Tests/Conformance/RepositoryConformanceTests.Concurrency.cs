using Coffer.Keys;
using Coffer.KeyStores;

namespace Coffer.Storage.Tests.Conformance;

public abstract partial class RepositoryConformanceTests
{
    [Fact]
    public async Task Concurrent_writers_creating_keys_all_succeed()
    {
        var keyStore = await CreateKeyStoreAsync();
        var second = await OpenAsync();
        const int writers = 8;
        const int keysEach = 10;

        await Task.WhenAll(Enumerable.Range(0, writers).Select(writer => Task.Run(async () =>
        {
            var keys = writer % 2 == 0 ? Keys : second.Keys;
            for (var i = 0; i < keysEach; i++)
            {
                var key = NewKey(keyStore.Id);
                await keys.CreateKeyAsync(key, FirstVersion(key));
            }
        })));

        Assert.Equal(writers * keysEach, await Keys.CountKeysAsync(keyStore.Id));
        Assert.All(await Keys.LoadAllAsync(), entry => Assert.Single(entry.Versions));
    }

    [Fact]
    public async Task Concurrent_creates_of_one_external_id_have_one_winner_and_clean_conflicts()
    {
        var keyStore = await CreateKeyStoreAsync();
        var second = await OpenAsync();
        var candidates = Enumerable.Range(0, 8).Select(_ => NewKey(keyStore.Id, externalId: "contended")).ToArray();

        var results = await Task.WhenAll(candidates.Select((key, i) => Task.Run(
            () => Attempt(() => (i % 2 == 0 ? Keys : second.Keys).CreateKeyAsync(key, FirstVersion(key))))));

        Assert.Equal(1, results.Count(r => r is null));
        Assert.All(results.Where(r => r is not null), r => Assert.IsType<ConflictException>(r));
        var winner = candidates[Array.FindIndex(results, r => r is null)];
        var all = await Keys.LoadAllAsync();
        Assert.Equal(winner.Id, Assert.Single(all).Key.Id);
        Assert.Single(all[0].Versions);
        foreach (var loser in candidates.Where(k => k.Id != winner.Id))
        {
            Assert.Empty(await Keys.ListVersionsAsync(loser.Id));
        }
    }

    [Fact]
    public async Task Concurrent_key_store_creates_with_one_prefix_have_one_winner()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(
            () => Attempt(() => KeyStores.CreateKeyStoreAsync(NewKeyStore(prefix: "/same"))))));

        Assert.Equal(1, results.Count(r => r is null));
        Assert.All(results.Where(r => r is not null), r => Assert.IsType<ConflictException>(r));
        Assert.Equal(1, await KeyStores.CountKeyStoresAsync());
    }

    [Fact]
    public async Task Readers_run_alongside_writers()
    {
        var keyStore = await CreateKeyStoreAsync();
        using var stop = new CancellationTokenSource();
        var reads = 0;
        var warm = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var reader = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var page = await Keys.ListKeysAsync(new KeyQuery(KeyStoreId: keyStore.Id));
                Assert.All(page.Keys, key => Assert.Equal(keyStore.Id, key.KeyStoreId));
                Interlocked.Increment(ref reads);
                warm.TrySetResult();
            }
        });

        // The reader's first query (connection, statement and mapper set-up) can take longer than
        // twenty fast writes; the question is whether reads go on while writes do, so start from a
        // warm reader and wait, midway through the writes, for a read that began after them.
        await warm.Task.WaitAsync(TimeSpan.FromSeconds(30));
        for (var i = 0; i < 20; i++)
        {
            await CreateKeyAsync(keyStore.Id);
            if (i == 9)
            {
                var before = Volatile.Read(ref reads);
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (Volatile.Read(ref reads) < before + 2)
                {
                    Assert.True(DateTime.UtcNow < deadline, "No read completed in 30 s while writes were under way.");
                    await Task.Delay(1);
                }
            }
        }

        await stop.CancelAsync();
        await reader;
        Assert.True(reads > 2);
        Assert.Equal(20, await Keys.CountKeysAsync(keyStore.Id));
    }

    [Fact]
    public async Task Everything_written_survives_a_reopen()
    {
        var keyStore = await CreateKeyStoreAsync(name: "durable", prefix: "/durable");
        var credential = new Credential("cred-1", keyStore.Id, "AKIADURABLE", [5, 4, 3], T0, T0.AddDays(1));
        await KeyStores.AddCredentialAsync(credential);
        var key = await CreateKeyAsync(keyStore.Id, externalId: "durable-key", description: "kept", tags: new Dictionary<string, string> { ["k"] = "v" }, enabled: false);
        var token = NewToken("tok-1", 0x33, expiresAt: T0.AddYears(1));
        await SystemRepository.AddTokenAsync(token);
        await SystemRepository.SetSettingAsync("seal.kind", "dev");

        Store.Dispose();
        var reopened = await OpenAsync();

        AssertSame(keyStore, await reopened.KeyStores.GetKeyStoreAsync(keyStore.Id));
        AssertSame(credential, Assert.Single(await reopened.KeyStores.ListCredentialsAsync(keyStore.Id)));
        AssertSame(key, await reopened.Keys.GetKeyAsync(key.Id));
        AssertSame(FirstVersion(key), Assert.Single(await reopened.Keys.ListVersionsAsync(key.Id)));
        AssertSame(token, await reopened.System.FindTokenByHashAsync(token.Hash));
        Assert.Equal("dev", await reopened.System.GetSettingAsync("seal.kind"));
    }

    [Fact]
    public async Task Cancelled_operations_throw_and_write_nothing()
    {
        var keyStore = await CreateKeyStoreAsync();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var key = NewKey(keyStore.Id);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Keys.CreateKeyAsync(key, FirstVersion(key), cancelled.Token));

        Assert.Null(await Keys.GetKeyAsync(key.Id));
        Assert.Empty(await Keys.ListVersionsAsync(key.Id));
    }
}
