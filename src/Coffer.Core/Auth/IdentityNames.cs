using System.Text.RegularExpressions;

namespace Coffer.Auth;

/// <summary>The one spelling of group and custom role names: lower-case letters, digits and dashes,
/// so they read the same in the API, the CLI, an identity provider's mapping and an audit record.</summary>
public static partial class IdentityNames
{
    public const string Rule = "lower-case letters, digits and dashes, 1 to 64 characters, starting with a letter or digit";

    public static bool IsValid(string? name) => name is not null && NamePattern().IsMatch(name);

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
