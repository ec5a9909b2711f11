using System.Diagnostics;

namespace Coffer.Testing;

internal static class ProcessStartInfoExtensions
{
    /// <summary>Adds <paramref name="arguments"/> as a list (no shell) and sets <paramref name="environment"/>
    /// over the inherited variables: a null value removes one.</summary>
    public static ProcessStartInfo With(this ProcessStartInfo start, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment)
    {
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        return start;
    }
}
