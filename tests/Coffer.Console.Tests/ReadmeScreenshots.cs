using Microsoft.Playwright;

namespace Coffer.Console.Tests;

/// <summary>
/// The README's pictures of the console: when <c>COFFER_README_SCREENSHOTS</c> names a directory, tests
/// marked <see cref="ReadmeScreenshotFactAttribute"/> run and save their pages there at 1280x800
/// (docs/console.md, "README screenshots"); otherwise they are skipped, so the suite pays nothing for them.
/// </summary>
/// <remarks>A page that wants its picture (the Approvals page's is <c>console-approvals.png</c>) adds a
/// test with the attribute that calls <see cref="SizeAsync"/>, shows its page and calls <see cref="SaveAsync"/>.</remarks>
internal static class ReadmeScreenshots
{
    public const string Variable = "COFFER_README_SCREENSHOTS";

    /// <summary>Gives the page the pictures' size, 1280x800.</summary>
    public static Task SizeAsync(IPage page) => page.SetViewportSizeAsync(1280, 800);

    public static string? Directory => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } directory ? directory : null;

    /// <summary>Saves what the page shows (the viewport, not the whole scroll) as <paramref name="name"/>.</summary>
    public static async Task SaveAsync(IPage page, string name)
    {
        var directory = Directory ?? throw new InvalidOperationException(Variable + " is not set.");
        System.IO.Directory.CreateDirectory(directory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, name) });
    }
}

/// <summary>A test that runs only when <c>COFFER_README_SCREENSHOTS</c> is set: it makes pictures, it checks nothing the suite needs.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ReadmeScreenshotFactAttribute : FactAttribute
{
    public ReadmeScreenshotFactAttribute()
    {
        if (ReadmeScreenshots.Directory is null)
        {
            Skip = $"Set {ReadmeScreenshots.Variable} to a directory to make the README's console pictures.";
        }
    }
}
