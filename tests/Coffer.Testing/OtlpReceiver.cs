using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Coffer.Testing;

/// <summary>
/// A small OTLP/HTTP receiver on loopback (a real Kestrel app): it accepts what an exporter posts to
/// <c>/v1/traces</c> and <c>/v1/metrics</c> (protobuf), answers 200 and keeps each body, so tests can look
/// for names and values in them.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<(string Signal, byte[] Body)> _received = new();

    private OtlpReceiver(WebApplication app) => _app = app;

    /// <summary>The base URL, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string Endpoint { get; private set; } = "";

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            receiver._received.Enqueue((signal, body.ToArray()));
            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync();
        receiver.Endpoint = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return receiver;
    }

    /// <summary>The bodies received for <paramref name="signal"/> (<c>traces</c> or <c>metrics</c>) so far.</summary>
    public IReadOnlyList<byte[]> Bodies(string signal) => [.. _received.Where(r => r.Signal == signal).Select(r => r.Body)];

    /// <summary>Everything received so far, as one byte string.</summary>
    public byte[] All => [.. _received.SelectMany(r => r.Body)];

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
