using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Coffer.Server.Management;

namespace Coffer.Cli.Client;

/// <summary>An answer of the management API: the typed value and the JSON exactly as sent (for --json).</summary>
internal sealed record ApiResult<T>(T Value, string Json);

/// <summary>
/// The management API (/api/v1) as the CLI sees it. Every failure becomes a <see cref="CliException"/>
/// whose message is the problem+json <c>detail</c> (the server words it for people), or says plainly
/// that Coffer could not be reached.
/// </summary>
internal sealed class ManagementClient : IDisposable
{
    /// <summary>How long a call that answers at once may take.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long connecting may take, for every call: a long verb waits for its answer, never for a dead address.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    private readonly HttpClient _http;

    /// <param name="reason">Sent as the Coffer-Reason header: shown to approvers when a call needs approval.</param>
    /// <param name="timeout">The whole call's limit; <see cref="Timeout.InfiniteTimeSpan"/> for verbs whose work
    /// grows with the audit log (verify, export, report, archive), which Ctrl+C ends instead.</param>
    public ManagementClient(ClientSettings settings, string? reason = null, TimeSpan? timeout = null)
    {
        Address = settings.Address;
        Timeout = timeout ?? DefaultTimeout;
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = ConnectTimeout }) { BaseAddress = settings.Address, Timeout = Timeout };
        if (settings.Token is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings.Token);
        }

        if (reason is not null)
        {
            _http.DefaultRequestHeaders.TryAddWithoutValidation("Coffer-Reason", reason);
        }
    }

    public Uri Address { get; }

    /// <summary>The whole call's limit (infinite for long verbs).</summary>
    public TimeSpan Timeout { get; }

    public static string Route(params string[] segments) =>
        "/api/v1/" + string.Join('/', segments.Select(Uri.EscapeDataString));

    public Task<ApiResult<T>> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken ct) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, path), type, ct);

    /// <summary>GET of what may not exist, or not for this caller: null when the server answers 404, or
    /// 403 (a token scoped to key stores may not ask about others, nor list them all).</summary>
    public async Task<T?> FindAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken ct)
        where T : class
    {
        try
        {
            return (await GetAsync(path, type, ct)).Value;
        }
        catch (CliException e) when (e.Status is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.Forbidden)
        {
            return null;
        }
    }

    public Task<ApiResult<T>> PostAsync<TBody, T>(string path, TBody body, JsonTypeInfo<TBody> bodyType, JsonTypeInfo<T> type, CancellationToken ct) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body, bodyType) }, type, ct);

    public Task<ApiResult<T>> PutAsync<TBody, T>(string path, TBody body, JsonTypeInfo<TBody> bodyType, JsonTypeInfo<T> type, CancellationToken ct) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Put, path) { Content = JsonContent.Create(body, bodyType) }, type, ct);

    /// <summary>PUT of JSON text sent as it is (a rule document the server checks strictly).</summary>
    public Task<ApiResult<T>> PutJsonTextAsync<T>(string path, string json, JsonTypeInfo<T> type, CancellationToken ct) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Put, path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") }, type, ct);

    public Task<ApiResult<T>> DeleteAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken ct) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Delete, path), type, ct);

    public Task<ApiResult<T>> PostAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken ct) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, path), type, ct);

    /// <summary>Streams a text answer line by line to <paramref name="output"/> (an export that may be large).</summary>
    public async Task<long> CopyLinesAsync(string path, TextWriter output, CancellationToken ct)
    {
        long lines = 0;
        await foreach (var line in ReadLinesAsync(path, null, ct))
        {
            await output.WriteLineAsync(line);
            lines++;
        }

        return lines;
    }

    /// <summary>POSTs to <paramref name="path"/> and streams the answer's body, which may be large, into <paramref name="destination"/>.</summary>
    public async Task PostAndCopyAsync(string path, Stream destination, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        using var response = await ExchangeAsync(request, ct, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        await body.CopyToAsync(destination, ct);
    }

    /// <summary>A GET's answer line by line as it arrives (a stream of progress lines, an export).</summary>
    /// <param name="accept">The media type to ask for, or null for the endpoint's default.</param>
    public async IAsyncEnumerable<string> ReadLinesAsync(string path, string? accept, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (accept is not null)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        }

        using var response = await ExchangeAsync(request, ct, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        using var reader = new StreamReader(body);
        while (await ReadLineAsync(reader, ct) is { } line)
        {
            yield return line;
        }
    }

    // A connection that breaks mid-answer (the server stopped, a proxy gave up) is Coffer's failure to
    // answer, said in one line like the others.
    private async Task<string?> ReadLineAsync(StreamReader reader, CancellationToken ct)
    {
        try
        {
            return await reader.ReadLineAsync(ct);
        }
        catch (IOException e)
        {
            throw new CliException($"Coffer at {Address} ended its answer before it was complete ({e.Message}): see the server's log.", e);
        }
    }

    /// <summary>The value of one line of an NDJSON answer; an answer that is not one is no answer of Coffer's.</summary>
    public T ReadLine<T>(string line, JsonTypeInfo<T> type)
        where T : class =>
        TryRead(line, type) ?? throw new CliException($"{Address} answered a line that is not Coffer's ({(line.Length > 200 ? line[..200] + "..." : line)}): check --addr or {ClientSettings.AddressVariable}.");

    public async Task DeleteAsync(string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, path);
        using var response = await ExchangeAsync(request, ct);
    }

    private async Task<ApiResult<T>> SendAsync<T>(HttpRequestMessage request, JsonTypeInfo<T> type, CancellationToken ct)
    {
        using (request)
        {
            using var response = await ExchangeAsync(request, ct);
            var json = await response.Content.ReadAsStringAsync(ct);
            try
            {
                var value = JsonSerializer.Deserialize(json, type);
                return value is null ? throw Unexpected(response, json) : new ApiResult<T>(value, json);
            }
            catch (JsonException)
            {
                throw Unexpected(response, json);
            }
        }
    }

    /// <summary>Sends the request and returns a successful response; anything else throws.</summary>
    private async Task<HttpResponseMessage> ExchangeAsync(HttpRequestMessage request, CancellationToken ct, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, completion, ct);
        }
        catch (HttpRequestException e)
        {
            var reason = e.HttpRequestError == HttpRequestError.ConnectionError || e.InnerException is SocketException
                ? "is `coffer server` running?"
                : e.Message;
            throw new CliException($"cannot reach Coffer at {Address}: {reason}", e);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            // Without a limit on the call, only connecting can time out.
            throw new CliException(Timeout == System.Threading.Timeout.InfiniteTimeSpan
                ? $"cannot reach Coffer at {Address}: no connection within {ConnectTimeout.TotalSeconds:0} s."
                : $"Coffer at {Address} did not answer within {Timeout.TotalSeconds:0.####} s.", e);
        }

        if (response.StatusCode == System.Net.HttpStatusCode.Accepted)
        {
            // A guarded call held for approval: nothing ran, so no verb may print its usual answer.
            using (response)
            {
                var json = await response.Content.ReadAsStringAsync(ct);
                var view = TryRead(json, ManagementJson.Default.ApprovalView);
                throw view is null ? Unexpected(response, json) : new ApprovalPendingException(view, json);
            }
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(ct);
            throw Problem(response, body) ?? Unexpected(response, body);
        }
    }

    private static T? TryRead<T>(string json, JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(json, type);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The problem+json detail (RFC 9457) of a failed call, when the server sent one.</summary>
    private static CliException? Problem(HttpResponseMessage response, string body)
    {
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType is not ("application/problem+json" or "application/json"))
        {
            return null;
        }

        try
        {
            var problem = JsonSerializer.Deserialize(body, ManagementJson.Default.ProblemDetails);
            var message = problem?.Detail ?? problem?.Title;
            return string.IsNullOrWhiteSpace(message) ? null : new CliException(message, response.StatusCode);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>An answer that is not Coffer's: a proxy's error page, a wrong port, a wrong URL.</summary>
    private CliException Unexpected(HttpResponseMessage response, string body)
    {
        var excerpt = body.Length > 200 ? body[..200] + "..." : body;
        excerpt = excerpt.ReplaceLineEndings(" ").Trim();
        return new CliException($"{Address} answered {(int)response.StatusCode} {response.ReasonPhrase}, but not as Coffer's management API does"
            + (excerpt.Length > 0 ? $" ({excerpt})" : string.Empty)
            + $": check --addr or {ClientSettings.AddressVariable}.");
    }

    public void Dispose() => _http.Dispose();
}
