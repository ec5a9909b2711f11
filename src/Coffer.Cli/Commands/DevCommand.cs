using System.CommandLine;
using Coffer.Hsm.SoftHsm;
using Coffer.Server.Hosting;
using Microsoft.Extensions.Logging;

namespace Coffer.Cli.Commands;

/// <summary><c>coffer dev</c>: the first of the README's two commands.</summary>
internal static class DevCommand
{
    public const int DefaultXksPort = 8400;
    public const int DefaultAdminPort = 8401;
    public const string DefaultDataDirectory = ".coffer-dev";
    private const int PortStep = 10;

    public static void AddTo(RootCommand root)
    {
        var data = new Option<string>("--data") { Description = "Data directory", DefaultValueFactory = _ => DefaultDataDirectory };
        var xksPort = new Option<int>("--xks-port") { Description = "XKS listener port (0 picks a free one)", DefaultValueFactory = _ => DefaultXksPort, CustomParser = WholeNumber.RequiredInt32 };
        var adminPort = new Option<int>("--admin-port") { Description = "Management listener port", DefaultValueFactory = _ => DefaultAdminPort, CustomParser = WholeNumber.RequiredInt32 };
        var tls = new Option<bool>("--tls") { Description = "Serve XKS over HTTPS with a self-signed certificate generated into the data directory" };
        var clientCa = new Option<string?>("--client-ca") { Description = "Require mTLS: client certificates must chain to this CA (PEM); implies --tls" };
        var clientSubject = new Option<string?>("--client-subject") { Description = "Required client certificate subject or common name (with --client-ca)" };
        var pkcs11 = new Option<bool>("--pkcs11") { Description = "Keep the demo key store's keys in a throw-away SoftHSM2 token under the data directory (needs softhsm2)" };
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Least log level", DefaultValueFactory = _ => LogLevel.Information };
        var cluster = new Option<int?>("--cluster")
        {
            Description = $"Run N nodes ({DevCluster.MinNodes}..{DevCluster.MaxNodes}) on one throw-away PostgreSQL in <data>/postgres; node i listens on the ports plus 10*(i-1)",
        };
        var command = new Command("dev", "Start Coffer on loopback with embedded defaults: SQLite, the dev seal, a demo key store and key.")
        {
            data, xksPort, adminPort, tls, clientCa, clientSubject, pkcs11, logLevel, cluster,
        };
        command.SetAction(async (parse, invocationCt) =>
        {
            using var signals = StopSignals.Listen(invocationCt);
            var ct = signals.Token;
            // Before any file is made: the SoftHSM2 token and the certificate below come first.
            OwnerOnlyFiles.RestrictUmask();
            var dataDir = Path.GetFullPath(parse.GetValue(data)!);
            var nodes = parse.GetValue(cluster);
            if (nodes is { } n && (n < DevCluster.MinNodes || n > DevCluster.MaxNodes))
            {
                Console.Error.WriteLine($"--cluster takes {DevCluster.MinNodes} to {DevCluster.MaxNodes} nodes, not {n}.");
                return 2;
            }

            // One data directory holds one kind of dev setup: the other kind would make a new dev
            // master key over the one its database is sealed with.
            if (nodes is not null && File.Exists(Path.Combine(dataDir, "coffer.db")))
            {
                Console.Error.WriteLine($"{dataDir} holds a single-node coffer dev (SQLite); give --cluster another --data directory.");
                return 2;
            }

            if (nodes is null && DevCluster.ExistsIn(dataDir))
            {
                Console.Error.WriteLine($"{dataDir} holds a coffer dev --cluster (PostgreSQL); start it with --cluster N or give another --data directory.");
                return 2;
            }

            if (nodes is not null && (parse.GetValue(pkcs11) || SoftHsmDevToken.ExistsIn(dataDir)))
            {
                Console.Error.WriteLine("--cluster runs with software keys only; --pkcs11 needs a single-node coffer dev.");
                return 2;
            }

            var options = NodeOptions(dataDir, parse.GetValue(xksPort), parse.GetValue(adminPort), 0);

            // A data directory that once had a dev token keeps using it, so its HSM keys stay reachable.
            if (parse.GetValue(pkcs11) || SoftHsmDevToken.ExistsIn(dataDir))
            {
                try
                {
                    options.Pkcs11 = SoftHsmDevToken.Ensure(dataDir);
                }
                catch (InvalidOperationException e)
                {
                    Console.Error.WriteLine(e.Message);
                    return 1;
                }
            }

            var ca = parse.GetValue(clientCa);
            if (parse.GetValue(tls) || ca is not null)
            {
                var (cert, key) = DevCertificate.Ensure(dataDir);
                options.Xks.Tls.CertificatePath = cert;
                options.Xks.Tls.KeyPath = key;
                if (ca is not null)
                {
                    var subject = parse.GetValue(clientSubject);
                    if (string.IsNullOrWhiteSpace(subject))
                    {
                        Console.Error.WriteLine("--client-ca needs --client-subject (e.g. cks.kms.eu-west-1.amazonaws.com).");
                        return 2;
                    }

                    options.Xks.Tls.ClientCaPath = Path.GetFullPath(ca);
                    options.Xks.Tls.ClientSubject = subject;
                }
            }

            // Benchmark only: the audit-off row of bench/README.md. An environment variable read here,
            // never a configuration option, so no production configuration can turn auditing off.
            var unaudited = Environment.GetEnvironmentVariable(Coffer.Server.Audit.AuditLog.UnauditedEnvironmentVariable) == "1";
            if (unaudited)
            {
                Console.Error.WriteLine($"WARNING: {Coffer.Server.Audit.AuditLog.UnauditedEnvironmentVariable}=1: THE AUDIT LOG IS OFF. Benchmarks only; nothing this node does is recorded.");
            }

            using var logging = Logging.Create("text", parse.GetValue(logLevel));
            if (nodes is { } count)
            {
                return await RunClusterAsync(count, options, logging, unaudited, ct);
            }

            var ((server, info), exitCode) = await ServerStart.TryAsync(() => DevEnvironment.StartAsync(options, logging.Factory, time: null, unaudited, ct), logging, ct);
            if (exitCode is not null)
            {
                return exitCode.Value;
            }

            await using (server)
            {
                logging.Flush();
                DevBanner.Print(info, options);
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                }
            }

            return 0;
        });
        root.Subcommands.Add(command);
    }

    /// <param name="index">0 for the first node (or the only one); a node listens on the given ports plus 10 per index
    /// (0 stays 0: a free port each).</param>
    private static CofferOptions NodeOptions(string dataDir, int xksPort, int adminPort, int index) => new()
    {
        DataDirectory = dataDir,
        Seal = "dev",
        NodeId = "dev-" + Coffer.Server.Cluster.NodeIdentity.FromHostName(Environment.MachineName),
        Xks = new XksListenerOptions { Address = "127.0.0.1", Port = Offset(xksPort, index), AllowPlainHttp = true },
        Admin = new ListenerOptions { Address = "127.0.0.1", Port = Offset(adminPort, index) },
    };

    private static int Offset(int port, int index) => port == 0 ? 0 : port + (PortStep * index);

    /// <summary>Every node is configured like the first (<paramref name="first"/>, TLS included) on its own ports.</summary>
    private static async Task<int> RunClusterAsync(int count, CofferOptions first, Logging logging, bool unaudited, CancellationToken ct)
    {
        CofferOptions OptionsFor(int index)
        {
            var options = NodeOptions(first.DataDirectory, first.Xks.Port, first.Admin.Port, index);
            options.NodeId = DevCluster.NodeId(index);
            options.Xks.Tls = first.Xks.Tls;
            return options;
        }

        DevCluster cluster;
        try
        {
            (cluster, var exitCode) = await ServerStart.TryAsync(() => DevCluster.StartAsync(count, first.DataDirectory, OptionsFor, logging.Factory, unaudited, ct), logging, ct);
            if (exitCode is not null)
            {
                return exitCode.Value;
            }
        }
        catch (InvalidOperationException e)
        {
            // PostgreSQL missing or failing to start: its message says what to do.
            logging.Flush();
            Console.Error.WriteLine(e.Message);
            return 1;
        }

        await using var running = cluster;
        logging.Flush();
        DevBanner.Print(cluster.Info, first);
        try
        {
            await Task.Delay(Timeout.Infinite, ct);
        }
        catch (OperationCanceledException)
        {
        }

        return 0;
    }
}
