using System.Security.Cryptography;
using Coffer.Crypto;
using Coffer.Server.Hosting;

namespace Coffer.Server.Seal;

/// <summary>
/// How a rekey stores the new master key in the seal's outer layer (docs/master-key.md, "coffer
/// rekey"): <see cref="Settings"/> are written in the switch's transaction (the pkcs11 seal's wrapped
/// key), <see cref="AfterSwitch"/> runs after it and again on every rerun (the dev seal's key file).
/// </summary>
/// <param name="NeedsShares">The shamir seal: the switch needs a quorum's unseal key, so it runs from a
/// re-split session, not from <see cref="SealManager.RekeyAsync"/>.</param>
/// <param name="FollowWait">How long the rekey waits after its switch before its last pass, so every
/// node sharing the database has reloaded (one full reload interval; none on SQLite, a single node).</param>
internal sealed record RekeyOuterLayer(
    bool NeedsShares,
    Func<MasterKey, IReadOnlyDictionary<string, string?>> Settings,
    Func<MasterKey, CancellationToken, Task> AfterSwitch,
    TimeSpan FollowWait)
{
    private static readonly IReadOnlyDictionary<string, string?> NoSettings = new Dictionary<string, string?>();

    /// <summary>The outer layer of this installation's seal, <paramref name="sealKind"/>.</summary>
    /// <exception cref="SealStateException">The pkcs11 seal without the node's Pkcs11 configuration.</exception>
    public static async Task<RekeyOuterLayer> ForAsync(string sealKind, SealManager seal, CofferOptions options, CancellationToken ct)
    {
        var wait = options.Storage.Engine == StorageOptions.Postgres ? TimeSpan.FromSeconds(options.Cluster.FullReloadSeconds) : TimeSpan.Zero;
        switch (sealKind)
        {
            case SealKinds.Dev:
                return new RekeyOuterLayer(false, _ => NoSettings, (key, token) => WriteKeyFileAsync(options.ResolvedDevMasterKeyPath, key, token), wait);
            case SealKinds.Pkcs11:
                var hsm = seal.Pkcs11 ?? throw new SealStateException("The pkcs11 seal needs the Pkcs11 section of this node's configuration.");
                var label = await seal.Storage.System.GetSettingAsync(SettingNames.Pkcs11SealLabel, ct) ?? Pkcs11Seal.DefaultLabel;
                return new RekeyOuterLayer(false, key => Pkcs11Seal.Settings(hsm, label, key).ToDictionary(p => p.Key, p => (string?)p.Value), (_, _) => Task.CompletedTask, wait);
            default:
                return new RekeyOuterLayer(true, _ => throw new SealStateException("The shamir seal stores a new master key only under a new unseal key."), (_, _) => Task.CompletedTask, wait);
        }
    }

    /// <summary>The shamir seal's: the new key sealed under a new unseal key, whose shares go to <paramref name="shares"/>.</summary>
    public static RekeyOuterLayer Shamir(int count, int threshold, Action<IReadOnlyList<string>> shares, TimeSpan followWait) => new(
        true,
        key =>
        {
            var (split, settings) = ShamirSeal.Split(key, count, threshold);
            shares(split);
            return settings;
        },
        (_, _) => Task.CompletedTask,
        followWait);

    // After the switch's transaction: until this file holds the new key, the old one it holds still
    // unseals (master.next, kept until the retire, leads from it to the new key), and a rerun writes it.
    // Written beside and renamed over the old file, so a crash leaves one whole key or the other.
    private static async Task WriteKeyFileAsync(string path, MasterKey key, CancellationToken ct)
    {
        var next = path + ".next";
        var raw = key.Export();
        try
        {
            // Only the owner may read it, from its creation on (as coffer dev's key file).
            var create = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            await using (var file = new FileStream(next, create))
            {
                await file.WriteAsync(raw, ct);
                file.Flush(flushToDisk: true);
            }

            File.Move(next, path, overwrite: true);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
    }
}
