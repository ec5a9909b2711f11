using System.Diagnostics.CodeAnalysis;
using Coffer.Crypto;

namespace Coffer.Server.Xks;

/// <summary>The XKS error names (XKS spec, "Error codes").</summary>
public enum XksErrorName
{
    ValidationException,
    InvalidStateException,
    InvalidCiphertextException,
    InvalidKeyUsageException,
    AuthenticationFailedException,
    AccessDeniedException,
    KeyNotFoundException,
    InvalidUriPathException,
    ThrottlingException,
    UnsupportedOperationException,
    DependencyTimeoutException,
    InternalException,
}

/// <summary>The one table from error name to HTTP status (XKS spec, "Error codes").</summary>
internal static class XksErrors
{
    public static int StatusCode(XksErrorName name) => name switch
    {
        XksErrorName.ValidationException => 400,
        XksErrorName.InvalidStateException => 400,
        XksErrorName.InvalidCiphertextException => 400,
        XksErrorName.InvalidKeyUsageException => 400,
        XksErrorName.AuthenticationFailedException => 401,
        XksErrorName.AccessDeniedException => 403,
        XksErrorName.KeyNotFoundException => 404,
        XksErrorName.InvalidUriPathException => 404,
        XksErrorName.ThrottlingException => 429,
        XksErrorName.UnsupportedOperationException => 501,
        XksErrorName.DependencyTimeoutException => 503,
        _ => 500,
    };

    /// <summary>A key backend that cannot serve now (docs/pkcs11.md, "Errors"): at capacity → 429
    /// ThrottlingException, so AWS KMS backs off; unreachable → 503 DependencyTimeoutException, which
    /// AWS KMS retries while Coffer reconnects by itself. The backend's message is for the log only.</summary>
    public static XksException From(CryptoBackendUnavailableException exception) => exception is CryptoBackendBusyException
        ? new XksException(XksErrorName.ThrottlingException, "All HSM sessions are busy; retry shortly.")
        : new XksException(XksErrorName.DependencyTimeoutException, "The HSM holding this key is unreachable; Coffer reconnects by itself.");
}

/// <summary>
/// A failure that the XKS edge answers with its error name. The message goes to the caller, so it
/// is a fixed, printable-ASCII text under 512 characters that never carries input data or secrets.
/// </summary>
internal sealed class XksException(XksErrorName name, string message) : Exception(message)
{
    public XksErrorName Name { get; } = name;
}

/// <summary>Throws from hot paths without inflating the callers (Npgsql's ThrowHelper pattern).</summary>
internal static class XksThrow
{
    [DoesNotReturn]
    public static void Validation(string message) => throw new XksException(XksErrorName.ValidationException, message);

    [DoesNotReturn]
    public static void InvalidCiphertext(string message) => throw new XksException(XksErrorName.InvalidCiphertextException, message);

    [DoesNotReturn]
    public static void Unsupported(string message) => throw new XksException(XksErrorName.UnsupportedOperationException, message);

    [DoesNotReturn]
    public static void InvalidState(string message) => throw new XksException(XksErrorName.InvalidStateException, message);

    /// <summary>The key manager itself failed (XKS spec: "failure of the backing key manager").</summary>
    [DoesNotReturn]
    public static void Internal() => throw new XksException(XksErrorName.InternalException, "The key material for this request is unusable in Coffer; the server log has details.");

    [DoesNotReturn]
    public static void InvalidKeyUsage(string message) => throw new XksException(XksErrorName.InvalidKeyUsageException, message);
}
