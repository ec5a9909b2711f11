using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.FileProviders;

namespace Coffer.Server.WebConsole;

/// <summary>
/// Serves the web console (docs/console.md, "How it is served"): static files embedded in the
/// executable, under <c>/console/</c> on the management listener, so the console and <c>/api/v1</c>
/// share one origin and the console needs no CDN or internet. The files hold nothing secret and are
/// served to anyone; every datum they show comes from <c>/api/v1</c>, which checks the caller.
/// </summary>
internal static class ConsoleAssets
{
    public const string RequestPath = "/console";

    /// <summary>No inline script or style, no eval, nothing from another origin, never in a frame.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    /// <summary>Before routing: a request for a console file is answered here and goes no further.</summary>
    public static void UseWebConsole(this WebApplication app)
    {
        var files = new ManifestEmbeddedFileProvider(typeof(ConsoleAssets).Assembly, "WebConsole/wwwroot");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = RequestPath });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = RequestPath,
            OnPrepareResponse = context => AddHeaders(context.Context.Response),
        });
    }

    /// <summary>The management listener's root leads a browser to the console.</summary>
    public static void MapConsoleEntry(this WebApplication app) =>
        app.MapGet("/", () => Results.Redirect(RequestPath + "/")).AllowAnonymous().ExcludeFromDescription();

    private static void AddHeaders(HttpResponse response)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        // Revalidated at each load (the ETag makes that cheap): a new Coffer's console is seen at once.
        headers.CacheControl = "no-cache";
    }
}
