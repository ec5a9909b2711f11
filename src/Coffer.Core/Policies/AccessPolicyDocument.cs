using System.Text.Json.Serialization;

namespace Coffer.Policies;

// The rule document of a key store or a key, as users write it (docs/access-rules.md). Every
// matcher is a list that matches when any element does; an absent matcher matches everything.

/// <summary>A key store's or a key's access rules.</summary>
public sealed class AccessPolicyDocument
{
    public List<AccessRuleDocument>? Rules { get; set; }
}

/// <summary>One rule: a name (named in denials), an effect and the request it applies to.</summary>
public sealed class AccessRuleDocument
{
    public string? Name { get; set; }

    /// <summary><c>allow</c> or <c>deny</c>.</summary>
    public string? Effect { get; set; }

    public string? Description { get; set; }

    /// <summary>XKS operations: <c>encrypt</c>, <c>decrypt</c>, <c>metadata</c>.</summary>
    public List<string>? Operation { get; set; }

    /// <summary>requestMetadata.kmsOperation (e.g. GenerateDataKey); exact or with <c>*</c>.</summary>
    public List<string>? KmsOperation { get; set; }

    /// <summary>requestMetadata.awsPrincipalArn; exact or with <c>*</c>.</summary>
    public List<string>? AwsPrincipalArn { get; set; }

    /// <summary>The 12-digit account of awsPrincipalArn.</summary>
    public List<string>? AwsAccount { get; set; }

    /// <summary>The 12-digit account of kmsKeyArn.</summary>
    public List<string>? KmsKeyAccount { get; set; }

    /// <summary>The region of kmsKeyArn: region names, <c>*</c> patterns or region set names.</summary>
    public List<string>? KmsKeyRegion { get; set; }

    /// <summary>The region of the SigV4 credential scope (the KMS region that calls).</summary>
    public List<string>? SigningRegion { get; set; }

    public List<string>? KmsViaService { get; set; }

    public List<string>? AwsSourceVpc { get; set; }

    public List<string>? AwsSourceVpce { get; set; }

    /// <summary>The caller's IP address: CIDR blocks or single addresses, IPv4 or IPv6.</summary>
    public List<string>? SourceIp { get; set; }

    public DateTimeOffset? NotBefore { get; set; }

    public DateTimeOffset? NotAfter { get; set; }
}

/// <summary>Strict reading of rule documents: an unknown field is an error (a misspelt matcher
/// would otherwise silently match everything).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = false)]
[JsonSerializable(typeof(AccessPolicyDocument))]
public sealed partial class AccessPolicyJson : JsonSerializerContext;
