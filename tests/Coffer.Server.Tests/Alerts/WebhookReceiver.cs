using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Tests.Alerts;

/// <summary>A webhook receiver on loopback (a real Kestrel): records every POST it gets and answers
/// with the next planned status (200 once the plan is used up).</summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<int> _plan = new();

    private WebhookReceiver(WebApplication app) => _app = app;

    /// <summary>Every request received, in order, with the status it was answered with.</summary>
    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    /// <summary>Answers every request with this status while the plan is empty.</summary>
    public int DefaultStatus { get; set; } = 200;

    public string Url => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/hook";

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hook", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync();
            var status = receiver._plan.TryDequeue(out var planned) ? planned : receiver.DefaultStatus;
            receiver.Received.Enqueue(new ReceivedWebhook(
                http.Request.Headers["Coffer-Signature"].ToString(),
                http.Request.Headers["Coffer-Event-Id"].ToString(),
                http.Request.Headers["Coffer-Event-Type"].ToString(),
                http.Request.ContentType,
                body,
                status));
            http.Response.StatusCode = status;
        });
        await app.StartAsync();
        return receiver;
    }

    /// <summary>The next requests get these statuses, in order.</summary>
    public void Plan(params int[] statuses)
    {
        foreach (var status in statuses)
        {
            _plan.Enqueue(status);
        }
    }

    /// <summary>Requests it accepted (2xx).</summary>
    public IReadOnlyList<ReceivedWebhook> Accepted => [.. Received.Where(r => r.Status is >= 200 and < 300)];

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

internal sealed record ReceivedWebhook(string Signature, string EventId, string EventType, string? ContentType, string Body, int Status);
