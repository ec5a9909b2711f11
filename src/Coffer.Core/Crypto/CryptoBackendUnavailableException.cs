namespace Coffer.Crypto;

/// <summary>
/// The key backend cannot serve now, through no fault of the call: its device or service is
/// unreachable (a fatal device error, a failed reconnect, a reconnect backoff being waited out, a
/// refused login). The backend recovers by itself, so a retry is the right advice: the XKS edge
/// answers 503 DependencyTimeoutException, the management API 503 (docs/architecture.md, "Errors at
/// the edges"). Thrown by every backend for this and nothing else; a call that is wrong in itself (a
/// missing object, a corrupt reference) is a <see cref="CryptoException"/>.
/// </summary>
/// <remarks>Its message names the failing operation and the device's own error code, never key
/// material, a PIN or another secret; the device's exception is the inner exception.</remarks>
public class CryptoBackendUnavailableException : Exception
{
    public CryptoBackendUnavailableException(string message) : base(message) { }

    public CryptoBackendUnavailableException(string message, Exception inner) : base(message, inner) { }

    public CryptoBackendUnavailableException() { }
}

/// <summary>
/// The key backend is reachable but at capacity: no session (or worker) became free within the
/// backend's timeout. The XKS edge answers 429 ThrottlingException, so AWS KMS backs off.
/// </summary>
public sealed class CryptoBackendBusyException : CryptoBackendUnavailableException
{
    public CryptoBackendBusyException(string message) : base(message) { }

    public CryptoBackendBusyException(string message, Exception inner) : base(message, inner) { }

    public CryptoBackendBusyException() { }
}
