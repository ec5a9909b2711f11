using System.Text.Json.Serialization;

namespace Coffer.Server.Xks;

// Wire types of the XKS API v1 (XKS spec, "API operations"). byte[] members are Base64 on the wire;
// unknown fields are ignored, as the spec requires ("Future fields may appear").

internal sealed class RequestMetadata
{
    public string? AwsPrincipalArn { get; set; }
    public string? AwsSourceVpc { get; set; }
    public string? AwsSourceVpce { get; set; }
    public string? KmsKeyArn { get; set; }
    public string? KmsOperation { get; set; }
    public string? KmsRequestId { get; set; }
    public string? KmsViaService { get; set; }
}

internal sealed class XksRequest
{
    public RequestMetadata? RequestMetadata { get; set; }
    public byte[]? Plaintext { get; set; }
    public string? EncryptionAlgorithm { get; set; }
    public byte[]? AdditionalAuthenticatedData { get; set; }
    public string? CiphertextDataIntegrityValueAlgorithm { get; set; }
    public byte[]? Ciphertext { get; set; }
    public byte[]? CiphertextMetadata { get; set; }
    public byte[]? InitializationVector { get; set; }
    public byte[]? AuthenticationTag { get; set; }
}

internal sealed record KeyMetadataResponse(string KeySpec, string[] KeyUsage, string KeyStatus);

internal sealed record EncryptResponse(
    byte[] Ciphertext,
    byte[] InitializationVector,
    byte[] AuthenticationTag,
    byte[] CiphertextMetadata,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] byte[]? CiphertextDataIntegrityValue);

internal sealed record DecryptResponse(byte[] Plaintext);

internal sealed record HealthResponse(
    int XksProxyFleetSize,
    string XksProxyVendor,
    string XksProxyModel,
    string EkmVendor,
    EkmFleetDetail[] EkmFleetDetails);

internal sealed record EkmFleetDetail(string Id, string Model, string HealthStatus);

internal sealed record XksErrorResponse(string ErrorName, string ErrorMessage);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    PropertyNameCaseInsensitive = false,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(XksRequest))]
[JsonSerializable(typeof(KeyMetadataResponse))]
[JsonSerializable(typeof(EncryptResponse))]
[JsonSerializable(typeof(DecryptResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(XksErrorResponse))]
internal sealed partial class XksJson : JsonSerializerContext;
