using System.Net;
using System.Text;

namespace Coffer.Bench;

/// <summary>One logical client connection owned by one worker (never shared between workers).</summary>
public interface IClientConnection : IDisposable
{
    /// <summary>Sends the request, drains the response and returns its HTTP status.</summary>
    ValueTask<int> SendAsync(PreparedRequest request, CancellationToken ct);

    /// <summary>Start of the body of the last non-200 response, for the error report.</summary>
    string? LastErrorBody { get; }
}

public interface IClientFactory : IDisposable
{
    string Name { get; }
    IClientConnection Open();
}

public static class Clients
{
    public static IClientFactory Create(string kind, int connections) => kind switch
    {
        "raw" => new RawClientFactory(),
        "http" => new HttpClientFactory(connections),
        _ => throw new ArgumentException($"unknown client '{kind}' (raw|http)"),
    };
}

/// <summary>HttpClient over SocketsHttpHandler tuned for a load generator: HTTP/1.1 keep-alive,
/// one pooled connection per worker, no proxy, cookies, redirects or decompression.</summary>
public sealed class HttpClientFactory(int connections) : IClientFactory
{
    private readonly HttpClient _client = new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = connections,
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(5),
    })
    { Timeout = TimeSpan.FromSeconds(30) };

    public string Name => "HttpClient (SocketsHttpHandler, HTTP/1.1 keep-alive)";
    public IClientConnection Open() => new Connection(_client);
    public void Dispose() => _client.Dispose();

    private sealed class Connection(HttpClient client) : IClientConnection
    {
        private readonly byte[] _drain = new byte[16 * 1024];
        public string? LastErrorBody { get; private set; }

        public async ValueTask<int> SendAsync(PreparedRequest request, CancellationToken ct)
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, request.Uri)
            {
                Version = HttpVersion.Version11,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                Content = request.Content, // preallocated; the pool slot is used by one worker at a time
            };
            foreach (var (k, v) in request.Headers) message.Headers.TryAddWithoutValidation(k, v);
            try
            {
                using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct);
                var status = (int)response.StatusCode;
                await using var body = await response.Content.ReadAsStreamAsync(ct);
                int n, total = 0;
                while ((n = await body.ReadAsync(_drain.AsMemory(total < 512 ? total : 0), ct)) > 0)
                    if (total < 512) total += n;
                if (status != 200) LastErrorBody = Encoding.UTF8.GetString(_drain, 0, Math.Min(total, 512));
                return status;
            }
            finally
            {
                // Disposing the message must not dispose the shared, preallocated content.
                message.Content = null;
            }
        }

        public void Dispose() { }
    }
}
