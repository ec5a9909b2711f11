using Coffer.Keys;
using Coffer.Server.KeyRing;

namespace Coffer.Server.Xks.Operations;

/// <summary>XKS spec, GetKeyMetadata: a disabled key still answers 200 with DISABLED.</summary>
internal static class GetKeyMetadata
{
    public static KeyMetadataResponse Execute(KeyEntry key) =>
        new("AES_256", KeyUsageText.ToNames(key.Key.Usage), key.Key.Enabled ? "ENABLED" : "DISABLED");
}
