using Coffer.Testing;
using Microsoft.Playwright;

namespace Coffer.Console.Tests;

/// <summary>Steps many console tests take.</summary>
internal static class Pages
{
    /// <summary>Opens the console and logs in with the node's administrator token, as a person would.</summary>
    public static async Task LogInAsync(IPage page, DevServer node, string? token = null)
    {
        await page.GotoAsync(node.Server.AdminUrl.ToString());
        await page.GetByLabel("Management token").FillAsync(token ?? node.Info.AdminToken);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();
    }
}
