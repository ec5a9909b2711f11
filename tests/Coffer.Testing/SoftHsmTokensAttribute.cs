using System.Reflection;

namespace Coffer.Testing;

/// <summary>
/// How many SoftHSM2 tokens a test assembly takes from <see cref="SoftHsmToken.Create"/> in one run:
/// all of them are made at first use, before the module loads (see <see cref="SoftHsmToken"/>), so
/// an assembly that takes more than <see cref="DefaultCount"/> says so with
/// <c>[assembly: SoftHsmTokens(n)]</c>. Count a token per node a class fixture starts, per test of a
/// class that starts its own node (xunit makes a class instance per test, and per theory row).
/// </summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class SoftHsmTokensAttribute(int count) : Attribute
{
    public const int DefaultCount = 64;

    public int Count { get; } = count;

    /// <summary>The most a loaded test assembly declares, and at least <see cref="DefaultCount"/>.</summary>
    internal static int DeclaredCount() =>
        AppDomain.CurrentDomain.GetAssemblies()
            .Where(a => !a.IsDynamic && a.GetReferencedAssemblies().Any(r => r.Name == typeof(SoftHsmToken).Assembly.GetName().Name))
            .Select(a => a.GetCustomAttribute<SoftHsmTokensAttribute>()?.Count ?? 0)
            .Append(DefaultCount)
            .Max();
}
