using Microsoft.Extensions.Options;

namespace Coffer.Cli.Commands;

/// <summary>A configuration the server refused at start: every problem on a line of its own, each
/// naming its setting, and no stack trace (nothing in it is Coffer's fault).</summary>
internal static class RefusedConfiguration
{
    public static int Report(OptionsValidationException refused)
    {
        Console.Error.WriteLine("Coffer did not start: the configuration has to be fixed first.");
        foreach (var problem in refused.Failures)
        {
            Console.Error.WriteLine("  " + problem);
        }

        return 1;
    }
}
