namespace Coffer.Server.Xks;

/// <summary>Checks the parts of a request that every operation shares (XKS spec, Appendix B).</summary>
internal static class RequestValidation
{
    /// <summary>
    /// requestMetadata is required everywhere; kmsRequestId and kmsOperation always, awsPrincipalArn
    /// for key operations, kmsKeyArn for encrypt and decrypt. Values are never validated beyond
    /// presence: kmsRequestId is opaque and unknown kmsOperation values MUST be accepted.
    /// </summary>
    public static void RequireMetadata(RequestMetadata? metadata, XksOperation operation)
    {
        if (metadata is null)
        {
            XksThrow.Validation("requestMetadata is required.");
        }

        if (metadata.KmsRequestId is null)
        {
            XksThrow.Validation("requestMetadata.kmsRequestId is required.");
        }

        if (metadata.KmsOperation is null)
        {
            XksThrow.Validation("requestMetadata.kmsOperation is required.");
        }

        if (operation == XksOperation.GetHealthStatus)
        {
            return;
        }

        if (metadata.AwsPrincipalArn is null)
        {
            XksThrow.Validation("requestMetadata.awsPrincipalArn is required.");
        }

        if (operation is XksOperation.Encrypt or XksOperation.Decrypt && metadata.KmsKeyArn is null)
        {
            XksThrow.Validation("requestMetadata.kmsKeyArn is required for encrypt and decrypt.");
        }
    }

    /// <summary>v1 knows one algorithm; anything else is an operation Coffer does not implement.</summary>
    public static void RequireAesGcm(string? encryptionAlgorithm)
    {
        if (encryptionAlgorithm is null)
        {
            XksThrow.Validation("encryptionAlgorithm is required.");
        }

        if (encryptionAlgorithm != "AES_GCM")
        {
            XksThrow.Unsupported("encryptionAlgorithm must be AES_GCM; no other algorithm is implemented.");
        }
    }

    public static void RequireAadWithinLimit(byte[]? aad, int limit)
    {
        if (aad is not null && aad.Length > limit)
        {
            XksThrow.Unsupported("additionalAuthenticatedData is larger than Coffer supports.");
        }
    }
}
