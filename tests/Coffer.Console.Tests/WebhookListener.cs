using System.Collections.Concurrent;
using System.Net;
using Coffer.Testing;

namespace Coffer.Console.Tests;

/// <summary>A webhook receiver on loopback: answers 200 to every request and keeps each one's event type
/// (the <c>Coffer-Event-Type</c> header).</summary>
internal sealed class WebhookListener : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public WebhookListener()
    {
        Url = $"http://127.0.0.1:{LoopbackPorts.Free()}/hook/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public string Url { get; }

    public ConcurrentQueue<string> EventTypes { get; } = new();

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return; // stopped
            }

            EventTypes.Enqueue(context.Request.Headers["Coffer-Event-Type"] ?? "");
            context.Response.StatusCode = 200;
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}
