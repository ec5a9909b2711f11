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
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;

    /// <param name="reason">Sent as the Coffer-Reason header: shown to approvers when a call needs approval.</param>
    public ManagementClient(ClientSettings settings, string? reason = null)
    {
        Address = settings.Address;
        _http = new HttpClient { BaseAddress = settings.Address, Timeout = Timeout };
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
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var response = await ExchangeAsync(request, ct, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        using var reader = new StreamReader(body);
        long lines = 0;
        while (await reader.ReadLineAsync(ct) is { } line)
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
            throw new CliException($"Coffer at {Address} did not answer within {Timeout.TotalSeconds:0} s.", e);
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
