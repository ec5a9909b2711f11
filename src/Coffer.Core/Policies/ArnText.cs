namespace Coffer.Policies;

/// <summary>
/// Span-based ARN reading for the hot path: no allocation, never throws. The ARNs come from the
/// request (XKS requestMetadata) and may be anything; a malformed one yields false.
/// </summary>
internal static class ArnText
{
    /// <summary>Region and account of <c>arn:PARTITION:kms:REGION:ACCOUNT:key/ID</c>, with the
    /// rules of <see cref="Coffer.Audit.KmsKeyArn"/>.</summary>
    public static bool TryKmsKey(ReadOnlySpan<char> arn, out ReadOnlySpan<char> region, out ReadOnlySpan<char> account)
    {
        region = account = default;
        if (!TrySplit(arn, out var service, out var r, out var a, out var resource)
            || !service.SequenceEqual("kms") || !IsRegion(r) || !IsAccount(a)
            || !resource.StartsWith("key/") || resource.Length == 4)
        {
            return false;
        }

        region = r;
        account = a;
        return true;
    }

    /// <summary>The account of a principal ARN (<c>arn:aws:iam::ACCOUNT:role/x</c>,
    /// <c>arn:aws:sts::ACCOUNT:assumed-role/x/y</c>, ...).</summary>
    public static bool TryPrincipalAccount(ReadOnlySpan<char> arn, out ReadOnlySpan<char> account)
    {
        account = default;
        if (!TrySplit(arn, out var service, out _, out var a, out var resource) || service.IsEmpty || resource.IsEmpty || !IsAccount(a))
        {
            return false;
        }

        account = a;
        return true;
    }

    // arn:partition:service:region:account-id:resource (the resource may hold ':').
    private static bool TrySplit(ReadOnlySpan<char> arn, out ReadOnlySpan<char> service, out ReadOnlySpan<char> region, out ReadOnlySpan<char> account, out ReadOnlySpan<char> resource)
    {
        service = region = account = resource = default;
        if (arn.Length > 2048 || !arn.StartsWith("arn:"))
        {
            return false;
        }

        // The positions of the first five colons: after arn, partition, service, region, account.
        int c0 = 3, c1 = -1, c2 = -1, c3 = -1, c4 = -1, found = 1;
        for (var i = 4; i < arn.Length && found < 5; i++)
        {
            if (arn[i] != ':')
            {
                continue;
            }

            switch (found++)
            {
                case 1: c1 = i; break;
                case 2: c2 = i; break;
                case 3: c3 = i; break;
                default: c4 = i; break;
            }
        }

        if (found < 5 || c1 == c0 + 1)
        {
            return false; // too few parts, or an empty partition
        }

        service = arn[(c1 + 1)..c2];
        region = arn[(c2 + 1)..c3];
        account = arn[(c3 + 1)..c4];
        resource = arn[(c4 + 1)..];
        return true;
    }

    /// <summary>Lower-case letters, digits and '-' (eu-west-1, us-gov-west-1, eusc-de-east-1).</summary>
    public static bool IsRegion(ReadOnlySpan<char> s)
    {
        if (s.Length is 0 or > 32)
        {
            return false;
        }

        foreach (var c in s)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>An AWS account id is exactly 12 digits.</summary>
    public static bool IsAccount(ReadOnlySpan<char> s) => s.Length == 12 && AllDigits(s);

    // A plain loop: MemoryExtensions.ContainsAnyExceptInRange allocates on some code paths.
    public static bool AllDigits(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
