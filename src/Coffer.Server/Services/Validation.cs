namespace Coffer.Server.Services;

/// <summary>Shared input rules of the management API.</summary>
internal static class Validation
{
    public const int MaxNameLength = 64;

    /// <summary>Names: 1..64 of letters, digits, '.', '_' and '-'.</summary>
    public static bool TryName(string? value, string field, out string error)
    {
        error = $"{field} is required: 1 to {MaxNameLength} letters, digits, '.', '_' or '-'.";
        if (string.IsNullOrEmpty(value) || value.Length > MaxNameLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        error = string.Empty;
        return true;
    }
}
