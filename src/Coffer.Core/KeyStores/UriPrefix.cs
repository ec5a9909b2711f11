using System.Diagnostics.CodeAnalysis;

namespace Coffer.KeyStores;

/// <summary>
/// The optional path prefix in front of <c>/kms/xks/v1</c>, stored normalised as "" or "/a/b"
/// (leading slash, no trailing slash).
/// </summary>
/// <remarks>
/// XKS spec, "API operations": the whole XksProxyUriPath (prefix + <c>/kms/xks/v1</c>) is at most
/// 128 characters of <c>[A-Za-z0-9/_-]</c>.
/// </remarks>
public readonly record struct UriPrefix
{
    public const string XksSuffix = "/kms/xks/v1";
    public const int MaxUriPathLength = 128;

    public string Value { get; }

    private UriPrefix(string value) => Value = value;

    public static UriPrefix Empty => new(string.Empty);

    /// <summary>The XksProxyUriPath that AWS KMS is configured with.</summary>
    public string XksProxyUriPath => Value + XksSuffix;

    public static bool TryParse(string? text, [NotNullWhen(true)] out UriPrefix? prefix, [NotNullWhen(false)] out string? error)
    {
        prefix = null;
        var value = (text ?? string.Empty).Trim();
        value = value.TrimEnd('/');
        if (value.Length > 0 && value[0] != '/')
        {
            value = "/" + value;
        }

        // The XKS router splits a path at the first '/kms/xks/v1/', so a prefix must not contain it.
        if (value.Contains(XksSuffix, StringComparison.Ordinal))
        {
            error = $"The prefix must not contain '{XksSuffix}'; Coffer appends it.";
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '/' or '_' or '-'))
            {
                error = "The prefix may contain only letters, digits, '/', '_' and '-'.";
                return false;
            }
        }

        if (value.Contains("//", StringComparison.Ordinal))
        {
            error = "The prefix must not contain empty path segments ('//').";
            return false;
        }

        if (value.Length + XksSuffix.Length > MaxUriPathLength)
        {
            error = $"The XksProxyUriPath (prefix + '{XksSuffix}') must be at most {MaxUriPathLength} characters.";
            return false;
        }

        prefix = new UriPrefix(value);
        error = null;
        return true;
    }

    public static UriPrefix Parse(string? text) =>
        TryParse(text, out var prefix, out var error) ? prefix.Value : throw new ArgumentException(error, nameof(text));

    public override string ToString() => Value;
}
