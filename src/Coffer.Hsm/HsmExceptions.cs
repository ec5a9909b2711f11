namespace Coffer.Hsm;

/// <summary>
/// The HSM (module, slot or token) cannot be used right now: it answered a call with a fatal error
/// (device removed, token not present, session lost, general error…), the reconnect after such an
/// error failed, or Coffer is waiting out its reconnect backoff. Coffer reconnects by itself; the XKS
/// edge answers 503 DependencyTimeoutException (docs/pkcs11.md, "Errors").
/// </summary>
/// <remarks>The message names the PKCS#11 function and CKR code, never a PIN or key bytes.</remarks>
public sealed class HsmUnavailableException : Exception
{
    public HsmUnavailableException(string message) : base(message) { }

    public HsmUnavailableException(string message, Exception inner) : base(message, inner) { }

    public HsmUnavailableException() { }
}

/// <summary>
/// Every pooled session stayed busy for the configured SessionTimeoutMs: the HSM is at capacity.
/// The XKS edge answers 429 ThrottlingException so AWS KMS backs off (docs/pkcs11.md, "Errors").
/// </summary>
public sealed class HsmBusyException : Exception
{
    public HsmBusyException(string message) : base(message) { }

    public HsmBusyException(string message, Exception inner) : base(message, inner) { }

    public HsmBusyException() { }
}
