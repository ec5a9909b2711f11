namespace Coffer.Server.Xks.SigV4;

/// <summary>
/// Why a request failed SigV4 verification. Every value but <see cref="None"/> maps to 401
/// <c>AuthenticationFailedException</c> at the XKS edge (XKS spec, "Authentication"); the specific
/// value is for Coffer's own logs and metrics only and is never shown to the caller.
/// </summary>
public enum SigV4Failure
{
    /// <summary>The request is authentic.</summary>
    None,

    /// <summary>No <c>Authorization</c> header.</summary>
    MissingAuthorization,

    /// <summary>The <c>Authorization</c> header is not a well-formed SigV4 header (or appears twice).</summary>
    MalformedAuthorization,

    /// <summary>The algorithm is not <c>AWS4-HMAC-SHA256</c>.</summary>
    UnsupportedAlgorithm,

    /// <summary>The credential scope names a service other than <c>kms-xks-proxy</c>.</summary>
    WrongService,

    /// <summary>No <c>X-Amz-Date</c> header.</summary>
    MissingDate,

    /// <summary><c>X-Amz-Date</c> is not ISO 8601 basic <c>yyyyMMddTHHmmssZ</c> (or appears twice).</summary>
    MalformedDate,

    /// <summary>The credential scope date is not the date part of <c>X-Amz-Date</c>.</summary>
    CredentialScopeDateMismatch,

    /// <summary><c>X-Amz-Date</c> is more than <see cref="SigV4Verifier.MaxSkew"/> behind the server clock.</summary>
    RequestTooOld,

    /// <summary><c>X-Amz-Date</c> is more than <see cref="SigV4Verifier.MaxSkew"/> ahead of the server clock.</summary>
    RequestInFuture,

    /// <summary><c>host</c> is not among the signed headers.</summary>
    HostNotSigned,

    /// <summary><c>x-amz-date</c> is not among the signed headers.</summary>
    DateNotSigned,

    /// <summary>A header listed in <c>SignedHeaders</c> is absent from the request.</summary>
    SignedHeaderMissing,

    /// <summary>The access key id is not known (to this key store).</summary>
    UnknownAccessKey,

    /// <summary>The signature (or a signed <c>x-amz-content-sha256</c>) does not match the request.</summary>
    SignatureMismatch,
}
