using Coffer.Server.Tests.Xks;
using Coffer.Testing;

namespace Coffer.Server.Tests.Cluster;

/// <summary>NIST SP 800-38D's bound on random IVs holds for the cluster, not per node: the nodes reserve
/// a version's encryptions in the one database (Xks/EncryptionBudgets.cs), so two nodes encrypting at
/// once under one version make exactly its limit between them, never more and, once the transient
/// refusals of a loaded machine are retried, never fewer.</summary>
public sealed class ClusterEncryptionBudgetTests
{
    // Small enough that every reservation is a block of one: the nodes compete in the database for each
    // encryption. Lowering the limit only makes it stricter (Xks.MaxEncryptionsPerKeyVersion is 1..2^32).
    private const int Budget = 120;

    private readonly PostgresFixture _postgres = new();

    [Fact]
    public async Task Two_nodes_encrypting_at_once_make_exactly_the_versions_budget_between_them_and_then_both_refuse()
    {
        await using var cluster = await PostgresPair.StartAsync(_postgres, o => o.Xks.MaxEncryptionsPerKeyVersion = Budget);
        var clients = new[] { XksClient.For(cluster.A), XksClient.For(cluster.B) };
        var keyName = cluster.A.Info.KeyId;

        var answers = await Task.WhenAll(Enumerable.Range(0, 2 * Budget).Select(i => Task.Run(async () =>
            (Node: i % 2, Answer: await clients[i % 2].EncryptAsKmsAsync(keyName, [(byte)i])))));

        var made = answers.Where(a => a.Answer.Status == 200).ToList();
        Assert.Equal(Budget, made.Count);
        Assert.True(made.Any(a => a.Node == 0) && made.Any(a => a.Node == 1), "both nodes encrypted under the version");
        Assert.All(answers.Where(a => a.Answer.Status != 200), a => XksAssert.Error(a.Answer, 400, "InvalidStateException"));
        foreach (var client in clients)
        {
            var refused = await client.EncryptAsKmsAsync(keyName, [1]);
            XksAssert.Error(refused, 400, "InvalidStateException");
            Assert.Contains("NIST SP 800-38D", refused.ErrorMessage, StringComparison.Ordinal);
        }

        var storage = cluster.B.Server.Seal.Storage;
        var keyId = (await storage.Keys.FindKeyAsync(await cluster.B.KeyStoreIdAsync(cluster.B.Info.UriPrefix), keyName))!.Id;
        Assert.Equal(Budget, await storage.Keys.GetEncryptionsReservedAsync(keyId, 1));
    }
}
