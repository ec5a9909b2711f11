using Coffer.Policies;
using Coffer.Server.KeyRing;
using Coffer.Server.Logging;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Xks;

internal sealed partial class XksHandler
{
    /// <summary>
    /// Secondary authorization (XKS spec, "Authorization"): the key store's and key's access rules,
    /// decided from memory. A denial is 403 AccessDeniedException; its audit record (outcome denied)
    /// and log line name the rule that denied, or "no rule allowed". Never called for health.
    /// </summary>
    private void EnforceAccessRules(HttpContext context, XksCall call, KeyStoreEntry store, XksOperation operation, string signingRegion)
    {
        var metadata = call.Metadata!;
        var decision = accessRules.Decide(store.KeyStore.Id, call.ManagedKeyId!, new AccessRequest
        {
            Operation = operation switch
            {
                XksOperation.Encrypt => AccessOperation.Encrypt,
                XksOperation.Decrypt => AccessOperation.Decrypt,
                _ => AccessOperation.Metadata,
            },
            KmsOperation = metadata.KmsOperation,
            AwsPrincipalArn = metadata.AwsPrincipalArn,
            KmsKeyArn = metadata.KmsKeyArn,
            SigningRegion = signingRegion,
            KmsViaService = metadata.KmsViaService,
            AwsSourceVpc = metadata.AwsSourceVpc,
            AwsSourceVpce = metadata.AwsSourceVpce,
            SourceIp = context.Connection.RemoteIpAddress,
            Now = time.GetUtcNow(),
        });
        if (decision.Allowed)
        {
            return;
        }

        call.Denied = true;
        call.Reason = decision.Reason;
        Log.AccessDenied(logger, LogText.Escape(call.KmsRequestId), store.KeyStore.Name, LogText.Escape(call.KeyId), decision.Reason!);
        throw new XksException(XksErrorName.AccessDeniedException, "The access rules of this key store or key do not allow this request.");
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "xks {KmsRequestId} keystore={KeyStore} key={KeyId} denied by access rules: {Reason}")]
        public static partial void AccessDenied(ILogger logger, string kmsRequestId, string keyStore, string keyId, string reason);
    }
}
