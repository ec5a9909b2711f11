namespace Coffer.Server.Services;

// A service refuses a change by throwing one of these (or Coffer.Storage.ConflictException for a
// state that forbids it); the management edge maps each to its problem (Management/Problems.For).
// Their messages are written for the caller and never carry a secret.

/// <summary>The change names a key store, key, version or credential that does not exist (404).</summary>
internal sealed class NotFoundException(string message) : Exception(message);

/// <summary>The change's input is not acceptable; the message says what is allowed (400).</summary>
internal sealed class InvalidRequestException(string message) : Exception(message);

/// <summary>Texts a refusal shows callers.</summary>
internal static class Refusals
{
    /// <summary>A key backend cannot serve now (<see cref="Coffer.Crypto.CryptoBackendUnavailableException"/>);
    /// the backend's own message, with its device error code, is for the server log.</summary>
    public const string BackendUnavailable = "The PKCS#11 token could not serve the request; retry, and check the server log if it persists.";
}
