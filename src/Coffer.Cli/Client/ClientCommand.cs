using System.CommandLine;
using Coffer.Server.Hosting;

namespace Coffer.Cli.Client;

/// <summary>
/// Gives a verb the connection options every client verb shares and runs it with one error policy:
/// a <see cref="CliException"/> is one line on stderr and its exit code, never a stack trace.
/// </summary>
internal static class ClientCommand
{
    /// <param name="longRunning">The verb's work grows with the data (the audit log): no limit on the call,
    /// only on connecting (<see cref="ManagementClient.ConnectTimeout"/>); Ctrl+C ends it.</param>
    public static void SetClientAction(this Command command, CliEnvironment env, Func<ClientCall, CancellationToken, Task<int>> action, bool needsToken = true, bool longRunning = false)
    {
        var address = new Option<string?>("--addr")
        {
            Description = $"Management API URL [env: {ClientSettings.AddressVariable}; default: .coffer-dev/{DevEnvironment.FileName}, else {ClientSettings.DefaultAddress}]",
        };
        var token = new Option<string?>("--token")
        {
            Description = $"Management token. Prefer setting {ClientSettings.TokenVariable}: a token on the command line ends up in shell history and process lists",
        };
        var data = new Option<string?>("--data") { Description = "Read the URL and token from this `coffer dev` data directory's dev.json" };
        var json = new Option<bool>("--json") { Description = "Print the API's JSON instead of tables" };
        command.Options.Add(address);
        command.Options.Add(token);
        command.Options.Add(data);
        command.Options.Add(json);

        command.SetAction(async (parse, ct) =>
        {
            try
            {
                var settings = await ClientSettings.ResolveAsync(parse.GetValue(address), parse.GetValue(token), parse.GetValue(data), env, ct);
                if (needsToken)
                {
                    settings.RequireToken();
                }

                using var api = new ManagementClient(settings, env.Variable(ClientSettings.ReasonVariable),
                    longRunning ? Timeout.InfiniteTimeSpan : settings.Timeout);
                return await action(new ClientCall(parse, env, settings, api, parse.GetValue(json)), ct);
            }
            catch (ApprovalPendingException pending)
            {
                await pending.WriteAsync(env.Out, parse.GetValue(json));
                return pending.ExitCode;
            }
            catch (CliException e)
            {
                await env.Error.WriteLineAsync($"Error: {e.Message}");
                return e.ExitCode;
            }
        });
    }
}
