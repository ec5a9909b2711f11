using Coffer.Hsm;

namespace Coffer.Server.Xks;

/// <summary>How an HSM failure reaches AWS KMS (docs/pkcs11.md, "Errors").</summary>
internal static class HsmErrors
{
    /// <summary>No free HSM session in time → 429 ThrottlingException (AWS KMS backs off);
    /// token unreachable → 503 DependencyTimeoutException (retryable; Coffer reconnects by itself).
    /// Null for anything that is not an HSM availability failure.</summary>
    public static XksException? ToXks(Exception exception) => exception switch
    {
        HsmBusyException => new XksException(XksErrorName.ThrottlingException, "All HSM sessions are busy; retry shortly."),
        HsmUnavailableException => new XksException(XksErrorName.DependencyTimeoutException, "The HSM holding this key is unreachable; Coffer reconnects by itself."),
        _ => null,
    };
}
