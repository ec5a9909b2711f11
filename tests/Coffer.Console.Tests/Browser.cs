using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Coffer.Console.Tests;

/// <summary>
/// Debian's Chromium (<c>/usr/bin/chromium</c>, installed by test.sh) driven by Playwright, headless,
/// one browser per test class. Chromium is told not to reach out on its own (updates, sync, safe
/// browsing): the tests' only traffic is to the Coffer node on loopback.
/// </summary>
public sealed class Browser : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public IBrowser Chromium { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _playwright = await Playwright.CreateAsync();
        Chromium = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Environment.GetEnvironmentVariable("COFFER_CHROMIUM") ?? "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        await Chromium.DisposeAsync();
        _playwright?.Dispose();
    }

    /// <summary>A fresh browser context (its own cookies) with one page; a failing test's last screen is
    /// kept as <c>screenshots/NAME.png</c> beside the test results.</summary>
    public async Task RunAsync(string name, Func<IPage, Task> test)
    {
        await using var context = await Chromium.NewContextAsync();
        var page = await context.NewPageAsync();
        try
        {
            await test(page);
        }
        catch
        {
            var directory = Environment.GetEnvironmentVariable("COFFER_SCREENSHOTS") ?? Path.Combine(AppContext.BaseDirectory, "screenshots");
            Directory.CreateDirectory(directory);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, name + ".png"), FullPage = true });
            throw;
        }
    }

    /// <summary>axe-core on the page as it stands: no serious or critical accessibility violation.</summary>
    public static async Task AssertAccessibleAsync(IPage page)
    {
        var result = await page.RunAxe();
        var bad = result.Violations.Where(v => v.Impact is "serious" or "critical")
            .Select(v => $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Target?.ToString()))}").ToList();
        Assert.True(bad.Count == 0, "accessibility violations:\n" + string.Join("\n", bad));
    }
}
