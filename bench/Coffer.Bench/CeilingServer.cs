using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Coffer.Bench;

/// <summary>The ceiling: bare Kestrel on loopback that drains any POST body and answers a fixed JSON
/// shaped like an XKS encrypt response for a 32-byte plaintext. No auth, JSON parsing or crypto, so
/// it is what this machine's HTTP/1.1 stack (client included) can do at best.</summary>
public static class CeilingServer
{
    /// <summary>A host built as Coffer builds its own (src/Coffer.Server/Hosting/CofferServer.cs,
    /// NewBuilder): no logging, no appsettings.json from the working directory and no watcher on it, which
    /// would wake on every file written below it.</summary>
    internal static WebApplicationBuilder NewBuilder()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        return builder;
    }

    public static async Task<int> RunAsync(int port, int parentPid)
    {
        var builder = NewBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();

        var body = Encoding.UTF8.GetBytes(
            "{\"authenticationTag\":\"" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)) +
            "\",\"ciphertext\":\"" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) +
            "\",\"ciphertextMetadata\":\"" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(4)) +
            "\",\"initializationVector\":\"" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(12)) + "\"}");

        // A terminal middleware, no routing: the cheapest Kestrel request (Coffer's XKS listener is also
        // one terminal middleware).
        app.Run(async ctx =>
        {
            var reader = ctx.Request.BodyReader;
            while (true)
            {
                var read = await reader.ReadAsync(ctx.RequestAborted);
                reader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted) break;
            }
            ctx.Response.ContentType = "application/json";
            ctx.Response.ContentLength = body.Length;
            await ctx.Response.Body.WriteAsync(body, ctx.RequestAborted);
        });

        ParentWatch.ExitWhenGone(parentPid, app.Lifetime);
        await app.RunAsync();
        return 0;
    }
}

/// <summary>Children started by the bench end themselves if the bench dies without killing them.</summary>
public static class ParentWatch
{
    public static void ExitWhenGone(int parentPid, IHostApplicationLifetime lifetime)
    {
        if (parentPid <= 0) return;
        _ = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            while (await timer.WaitForNextTickAsync())
            {
                if (!Directory.Exists($"/proc/{parentPid}")) { lifetime.StopApplication(); return; }
            }
        });
    }
}
