using System.Text.Json;
using Coffer.Cli.Commands;
using Coffer.Server.Hosting;

namespace Coffer.Cli.Client;

/// <summary>
/// Where the management API is and which token to send. Explicit options win, then
/// <c>COFFER_ADDR</c>/<c>COFFER_TOKEN</c>; with neither, the <c>dev.json</c> that <c>coffer dev</c>
/// writes into its data directory, so the CLI works with no settings next to a dev server.
/// </summary>
internal sealed record ClientSettings(Uri Address, string? Token, string? DevFile)
{
    public const string AddressVariable = "COFFER_ADDR";
    public const string TokenVariable = "COFFER_TOKEN";

    /// <summary>Why a call is made, sent as the Coffer-Reason header: approvers see it on the approval
    /// request a guarded call becomes.</summary>
    public const string ReasonVariable = "COFFER_REASON";

    /// <summary>Seconds a call that answers at once may take (default 30); the verbs whose work grows
    /// with the audit log have no such limit.</summary>
    public const string TimeoutVariable = "COFFER_TIMEOUT";

    /// <summary>The limit of a call that answers at once (<see cref="TimeoutVariable"/>).</summary>
    public TimeSpan Timeout { get; init; } = ManagementClient.DefaultTimeout;

    /// <summary>The management listener's default (CofferOptions.Admin).</summary>
    public const string DefaultAddress = "http://127.0.0.1:8444";

    public static async Task<ClientSettings> ResolveAsync(string? address, string? token, string? dataDirectory, CliEnvironment env, CancellationToken ct)
    {
        address ??= env.Variable(AddressVariable);
        token ??= env.Variable(TokenVariable);
        string? devFile = null;

        // dev.json is only a fallback: it must never silently send the dev token to an address the
        // user named, so it is read when nothing was set or when --data asks for it.
        if (dataDirectory is not null || (address is null && token is null))
        {
            var path = Path.Combine(Path.GetFullPath(dataDirectory ?? DevCommand.DefaultDataDirectory, env.WorkingDirectory), DevEnvironment.FileName);
            DevInfo? info;
            try
            {
                info = await DevEnvironment.ReadAsync(path, ct);
            }
            catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
            {
                throw new CliException($"cannot read {path}: {e.Message}", e);
            }

            if (info is null && dataDirectory is not null)
            {
                throw new CliException($"{path} does not exist: --data must name the data directory of `coffer dev`.", CliException.Usage);
            }

            if (info is not null)
            {
                address ??= info.AdminUrl;
                token ??= info.AdminToken;
                devFile = path;
            }
        }

        address ??= DefaultAddress;
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliException($"'{address}' is not an http(s) URL: --addr and {AddressVariable} take the management API's base URL, e.g. {DefaultAddress}.", CliException.Usage);
        }

        return new ClientSettings(uri, token, devFile) { Timeout = TimeoutOf(env.Variable(TimeoutVariable)) };
    }

    private static TimeSpan TimeoutOf(string? seconds)
    {
        if (seconds is null)
        {
            return ManagementClient.DefaultTimeout;
        }

        return double.TryParse(seconds, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var value)
            && value is > 0 and <= 86_400
            ? TimeSpan.FromSeconds(value)
            : throw new CliException($"{TimeoutVariable} is '{seconds}': it takes the seconds a call may take, more than 0 and at most 86400, e.g. 30 or 0.5.", CliException.Usage);
    }

    /// <summary>Fails early, before a request, when a verb that needs a token has none.</summary>
    public string RequireToken() => Token
        ?? throw new CliException($"no management token: set {TokenVariable} (or pass --token; the environment keeps it out of shell history). "
            + $"`coffer init` prints the root token; `coffer dev` writes one to {DevCommand.DefaultDataDirectory}/{DevEnvironment.FileName}.");
}
