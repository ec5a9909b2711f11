using Coffer.Crypto;
using Coffer.Server.Audit;
using Coffer.Server.Seal;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Hosting;

/// <summary>The dev and pkcs11 seals need no operator: they unseal at start (<see cref="SelfUnseal"/>);
/// a Shamir node starts sealed and says what to run.</summary>
internal static partial class UnsealAtStart
{
    public static async Task RunAsync(CofferOptions options, SealManager seal, ILogger logger, CancellationToken ct)
    {
        var kind = await seal.Storage.System.GetSettingAsync(SettingNames.SealKind, ct);
        if (kind is not null && kind != options.Seal)
        {
            throw new InvalidOperationException($"The database was initialised with the '{kind}' seal but the configuration says '{options.Seal}'.");
        }

        if (kind == SealKinds.Dev)
        {
            Log.DevSeal(logger, options.ResolvedDevMasterKeyPath);
            await SelfUnseal.UnsealAsync(kind, seal, options, ct);
        }
        else if (kind == SealKinds.Pkcs11)
        {
            try
            {
                await SelfUnseal.UnsealAsync(kind, seal, options, ct);
            }
            catch (Exception e) when (e is CryptoBackendUnavailableException or CryptoException or SealStateException or AuditUnavailableException)
            {
                // Stay up and sealed: `coffer unseal` (no share needed) tries again once the HSM (or
                // the audit store, which must record the unseal first) is back.
                Log.Pkcs11UnsealFailed(logger, e.Message);
            }
        }
        else if (kind is null)
        {
            // Each seal is initialised its own way; the advice must match the one configured.
            Log.NotInitialized(logger, options.Seal == SealKinds.Pkcs11 ? "coffer init --seal pkcs11" : "coffer init --shares N --threshold M");
        }
        else
        {
            Log.StartedSealed(logger);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "DEV SEAL: the master key is read from {Path} in clear. Never use the dev seal for real keys.")]
        public static partial void DevSeal(ILogger logger, string path);

        [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Coffer is not initialised: run '{InitCommand}' against the management API")]
        public static partial void NotInitialized(ILogger logger, string initCommand);

        [LoggerMessage(EventId = 1104, Level = LogLevel.Error, Message = "The pkcs11 seal could not unseal at start ({Reason}); Coffer stays sealed until `coffer unseal`")]
        public static partial void Pkcs11UnsealFailed(ILogger logger, string reason);

        [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Coffer started sealed: run 'coffer unseal' with enough shares")]
        public static partial void StartedSealed(ILogger logger);
    }
}
