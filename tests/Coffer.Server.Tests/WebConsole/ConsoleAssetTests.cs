using System.Net;
using System.Reflection;
using System.Text.RegularExpressions;
using Coffer.Testing;

namespace Coffer.Server.Tests.WebConsole;

/// <summary>
/// The console's files (docs/console.md, "How it is served"): embedded in the executable, served by the
/// management listener with a strict Content-Security-Policy, and written so that policy holds — no
/// inline script, inline style, event-handler attribute or eval anywhere.
/// </summary>
public sealed partial class ConsoleAssetTests(SharedNode shared) : IClassFixture<SharedNode>
{
    private DevServer Node => shared.Node;

    [Fact]
    public async Task The_root_leads_to_the_console_page_which_comes_with_a_strict_policy()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Node.Server.AdminUrl };
        using var root = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, root.StatusCode);
        Assert.Equal("/console/", root.Headers.Location?.OriginalString);

        using var page = await http.GetAsync("/console/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var policy = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(page.Headers.GetValues("X-Content-Type-Options")));
        Assert.Contains("<form id=\"login-form\">", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_embedded_file_is_served_and_none_needs_what_the_policy_forbids()
    {
        var assembly = typeof(Coffer.Server.Hosting.CofferServer).Assembly;
        var names = assembly.GetManifestResourceNames().Where(n => n.Contains(".WebConsole.wwwroot.", StringComparison.Ordinal)).ToList();
        Assert.True(names.Count >= 5, "the console's files are embedded: " + string.Join(", ", names));
        var files = new Microsoft.Extensions.FileProviders.ManifestEmbeddedFileProvider(assembly, "WebConsole/wwwroot");
        foreach (var path in Walk(files, ""))
        {
            using var response = await Node.Admin.GetAsync("/console/" + path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, path);
            // The SVG namespace is a name, not an address: nothing is fetched from it.
            var text = (await response.Content.ReadAsStringAsync()).Replace("'http://www.w3.org/2000/svg'", "'svg'", StringComparison.Ordinal);
            Assert.False(InlineScript().IsMatch(text), $"{path} has an inline script");
            Assert.False(InlineHandlerOrStyle().IsMatch(text), $"{path} has an event-handler or style attribute");
            Assert.DoesNotContain("eval(", text, StringComparison.Ordinal);
            Assert.DoesNotContain("innerHTML", text, StringComparison.Ordinal);
            Assert.DoesNotContain("http://", text, StringComparison.Ordinal);
            Assert.DoesNotContain("https://", text, StringComparison.Ordinal);
        }
    }

    private static IEnumerable<string> Walk(Microsoft.Extensions.FileProviders.IFileProvider files, string directory)
    {
        foreach (var entry in files.GetDirectoryContents(directory))
        {
            var path = directory.Length == 0 ? entry.Name : directory + "/" + entry.Name;
            if (entry.IsDirectory)
            {
                foreach (var inner in Walk(files, path))
                {
                    yield return inner;
                }
            }
            else
            {
                yield return path;
            }
        }
    }

    [GeneratedRegex(@"<script(?![^>]*\bsrc=)[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex InlineScript();

    [GeneratedRegex(@"<[^>]+\s(on[a-z]+|style)\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex InlineHandlerOrStyle();
}
