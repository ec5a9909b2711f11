using Net.Pkcs11Interop.Common;

namespace Coffer.Hsm;

/// <summary>
/// Sorts PKCS#11 return values into "the token is gone" and "this call was wrong" (docs/style.md,
/// practice 8; the AWS XKS reference proxy's <c>is_ckr_fatal</c>).
/// </summary>
internal static class Pkcs11Errors
{
    /// <summary>Codes after which the session (and likely the library state) is unusable: Coffer drops
    /// the session, reinitialises the module and logs in again on the next call.</summary>
    public static bool IsFatal(CKR rv) => rv is CKR.CKR_DEVICE_REMOVED
        or CKR.CKR_DEVICE_ERROR
        or CKR.CKR_DEVICE_MEMORY
        or CKR.CKR_TOKEN_NOT_PRESENT
        or CKR.CKR_TOKEN_NOT_RECOGNIZED
        or CKR.CKR_SESSION_HANDLE_INVALID
        or CKR.CKR_SESSION_CLOSED
        or CKR.CKR_GENERAL_ERROR
        or CKR.CKR_CRYPTOKI_NOT_INITIALIZED
        or CKR.CKR_USER_NOT_LOGGED_IN
        or CKR.CKR_FUNCTION_FAILED
        or CKR.CKR_SLOT_ID_INVALID;

    /// <summary>Login failures that retrying would make worse: repeated wrong PINs lock the token's
    /// user PIN, so Coffer stops trying until it is restarted with the right PIN.</summary>
    public static bool IsPinProblem(CKR rv) => rv is CKR.CKR_PIN_INCORRECT
        or CKR.CKR_PIN_LOCKED
        or CKR.CKR_PIN_EXPIRED
        or CKR.CKR_PIN_INVALID
        or CKR.CKR_PIN_LEN_RANGE;

    /// <summary>"C_Decrypt returned CKR_DEVICE_ERROR": the function and code, nothing else.</summary>
    public static string Describe(Pkcs11Exception e) => $"{e.Method} returned {e.RV}";
}
