using Coffer.Hsm;
using Coffer.Server.Hosting;
using Coffer.Testing;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Tests.Hsm;

/// <summary>A production-like node on a fresh SoftHSM2 token: the pkcs11 seal, a temp SQLite file,
/// loopback listeners. <see cref="StartAsync"/> again on the same instance is a restart.</summary>
internal sealed class HsmNode : IDisposable
{
    public SoftHsmToken Token { get; } = SoftHsmToken.Create();

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("coffer-hsm-node-").FullName;

    public CapturedLogs Logs { get; } = new();

    /// <param name="seal">The configured seal: pkcs11, or shamir for a node that also has the HSM (a seal migration).</param>
    public Task<CofferServer> StartAsync(Action<Pkcs11Options>? configure = null, string seal = "pkcs11")
    {
        var pkcs11 = new Pkcs11Options { ModulePath = SoftHsmToken.ModulePath, TokenLabel = Token.TokenLabel, PinFile = Token.PinFile };
        configure?.Invoke(pkcs11);
        return CofferServer.StartAsync(new CofferOptions
        {
            DataDirectory = Directory,
            Seal = seal,
            NodeId = "hsm-test",
            Pkcs11 = pkcs11,
            Xks = new XksListenerOptions { Address = "127.0.0.1", Port = 0, AllowPlainHttp = true },
            Admin = new ListenerOptions { Address = "127.0.0.1", Port = 0 },
        }, LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(Logs)));
    }

    public void Dispose()
    {
        Token.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
