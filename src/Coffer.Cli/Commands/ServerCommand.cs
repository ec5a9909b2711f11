using System.CommandLine;
using Coffer.Server.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Coffer.Cli.Commands;

/// <summary><c>coffer server --config FILE</c>: production mode.</summary>
internal static class ServerCommand
{
    public static void AddTo(RootCommand root)
    {
        var config = new Option<string?>("--config") { Description = "JSON configuration file (COFFER_* environment variables override it, e.g. COFFER_Xks__Port=9443)" };
        var logFormat = new Option<string>("--log-format") { Description = "text or json", DefaultValueFactory = _ => "text" };
        logFormat.AcceptOnlyFromAmong("text", "json");
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Least log level", DefaultValueFactory = _ => LogLevel.Information };
        var command = new Command("server", "Run Coffer: the XKS listener (TLS, optional mTLS) and the management API.") { config, logFormat, logLevel };
        command.SetAction(async (parse, invocationCt) =>
        {
            using var signals = StopSignals.Listen(invocationCt);
            var ct = signals.Token;
            OwnerOnlyFiles.RestrictUmask();
            var options = Load(parse.GetValue(config));
            using var logging = Logging.Create(parse.GetValue(logFormat)!, parse.GetValue(logLevel));
            var (server, exitCode) = await ServerStart.TryAsync(() => CofferServer.StartAsync(options, logging.Factory, ct: ct), logging, ct);
            if (exitCode is not null)
            {
                return exitCode.Value;
            }

            await using var running = server;
            logging.Flush();
            Console.Error.WriteLine($"Coffer {Coffer.Server.Xks.DeepHealthCheck.Version}: XKS on {server.XksUrl}, management on {server.AdminUrl}, {(server.IsSealed ? "sealed" : "unsealed")}.");
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
            }

            return 0;
        });
        root.Subcommands.Add(command);
    }

    internal static CofferOptions Load(string? path)
    {
        var builder = new ConfigurationBuilder();
        if (path is not null)
        {
            builder.AddJsonFile(Path.GetFullPath(path), optional: false);
        }

        var options = new CofferOptions();
        builder.AddEnvironmentVariables("COFFER_").Build().Bind(options);
        return options;
    }
}
