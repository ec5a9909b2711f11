namespace Coffer.Keys;

/// <summary>What a key allows, reported to AWS as <c>keyUsage</c> (XKS spec, GetKeyMetadata).</summary>
[Flags]
public enum KeyUsage
{
    None = 0,
    Encrypt = 1,
    Decrypt = 2,
    EncryptDecrypt = Encrypt | Decrypt,
}

public static class KeyUsageText
{
    /// <summary>Parses "ENCRYPT", "DECRYPT", "ENCRYPT,DECRYPT" or "NONE" (any case).</summary>
    public static bool TryParse(IEnumerable<string> values, out KeyUsage usage)
    {
        usage = KeyUsage.None;
        foreach (var raw in values)
        {
            // An empty entry is a mistake, not a request for no usage (say NONE for that).
            if (string.IsNullOrWhiteSpace(raw))
            {
                return false;
            }

            foreach (var part in raw.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                switch (part.ToUpperInvariant())
                {
                    case "ENCRYPT": usage |= KeyUsage.Encrypt; break;
                    case "DECRYPT": usage |= KeyUsage.Decrypt; break;
                    case "NONE": break;
                    default: return false;
                }
            }
        }

        return true;
    }

    public static string[] ToNames(KeyUsage usage) => usage switch
    {
        KeyUsage.None => [],
        KeyUsage.Encrypt => ["ENCRYPT"],
        KeyUsage.Decrypt => ["DECRYPT"],
        _ => ["ENCRYPT", "DECRYPT"],
    };
}
