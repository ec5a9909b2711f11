using System.Security.Cryptography;
using System.Text;

namespace Coffer.Server.Services;

/// <summary>Comparisons of secrets that take the same time wherever the texts differ (docs/style.md, 5),
/// so a guesser learns nothing from how long a refusal took.</summary>
internal static class ConstantTime
{
    public static bool TextEquals(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected));
}
