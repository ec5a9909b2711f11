using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Coffer.Cli.Client;
using Coffer.Cli.Output;
using Coffer.Server.Management;

namespace Coffer.Cli.Commands;

/// <summary>
/// <c>coffer policy set|show|clear|simulate</c>: the access rules of a key store (<c>--keystore</c>)
/// or a key (<c>--key</c>), as JSON rule documents (docs/access-rules.md). The server checks a
/// document whole; a refusal prints the field at fault.
/// </summary>
internal static class PolicyCommands
{
    public static void AddTo(RootCommand root, CliEnvironment env) => root.Subcommands.Add(
        new Command("policy", "Access rules: who may use a key store's or key's keys, from where.")
        {
            Set(env), Show(env), Clear(env), Simulate(env),
        });

    private static (Option<string?> KeyStore, Option<string?> Key) ScopeOptions() =>
        (new Option<string?>("--keystore") { Description = "The key store (id or name) whose rules these are" },
         new Option<string?>("--key") { Description = "The key (id or name) whose rules these are" });

    /// <summary>The API path of the scope's policy, from exactly one of --keystore and --key.</summary>
    private static async Task<string> PolicyPathAsync(ClientCall call, Option<string?> keyStore, Option<string?> key, CancellationToken ct)
    {
        var (store, k) = (call.Parse.GetValue(keyStore), call.Parse.GetValue(key));
        return (store, k) switch
        {
            ({ } s, null) => ManagementClient.Route("keystores", await Lookup.KeyStoreIdAsync(call.Api, s, ct), "policy"),
            (null, { } id) => ManagementClient.Route("keys", await Lookup.KeyIdAsync(call.Api, id, ct), "policy"),
            _ => throw new CliException("Give exactly one of --keystore and --key.", CliException.Usage),
        };
    }

    private static Command Set(CliEnvironment env)
    {
        var (keyStore, key) = ScopeOptions();
        var file = new Option<FileInfo>("--file") { Description = "The rule document, JSON ({\"rules\": [...]}) or YAML (.yaml, .yml)", Required = true };
        var command = new Command("set", "Set the rules of a key store or key from a file; the previous version is kept.") { keyStore, key, file };
        command.SetClientAction(env, async (call, ct) =>
        {
            var path = await PolicyPathAsync(call, keyStore, key, ct);
            var json = await ReadFileAsync(call.Parse.GetValue(file)!, ct);
            var view = await call.Api.PutJsonTextAsync(path, json, ManagementJson.Default.PolicyView, ct);
            Print(call, view);
            return 0;
        });
        return command;
    }

    private static Command Show(CliEnvironment env)
    {
        var (keyStore, key) = ScopeOptions();
        var version = new Option<int?>("--version") { Description = "Show this earlier version", CustomParser = WholeNumber.Int32 };
        var versions = new Option<bool>("--versions") { Description = "List every version" };
        var command = new Command("show", "Show the rules of a key store or key.") { keyStore, key, version, versions };
        command.SetClientAction(env, async (call, ct) =>
        {
            var path = await PolicyPathAsync(call, keyStore, key, ct);
            if (call.Parse.GetValue(versions))
            {
                var list = await call.Api.GetAsync(path + "/versions", ManagementJson.Default.PolicyVersionsView, ct);
                if (call.Json)
                {
                    Json.Write(call.Out, list.Json);
                }
                else
                {
                    Table.Write(call.Out, ["VERSION", "RULES", "SET AT", "SET BY"], list.Value.Versions.Select(v => (IReadOnlyList<string>)
                        [v.Version.ToString(CultureInfo.InvariantCulture), v.Cleared ? "cleared" : (v.Document?.Rules?.Count ?? 0).ToString(CultureInfo.InvariantCulture),
                         v.CreatedAt.ToString("u", CultureInfo.InvariantCulture), v.CreatedBy ?? "-"]));
                }

                return 0;
            }

            var at = call.Parse.GetValue(version) is { } n ? path + "?version=" + n.ToString(CultureInfo.InvariantCulture) : path;
            Print(call, await call.Api.GetAsync(at, ManagementJson.Default.PolicyView, ct));
            return 0;
        });
        return command;
    }

    private static Command Clear(CliEnvironment env)
    {
        var (keyStore, key) = ScopeOptions();
        var command = new Command("clear", "Remove the rules of a key store or key (kept as a version): every call is allowed again unless other rules apply.") { keyStore, key };
        command.SetClientAction(env, async (call, ct) =>
        {
            Print(call, await call.Api.DeleteAsync(await PolicyPathAsync(call, keyStore, key, ct), ManagementJson.Default.PolicyView, ct));
            return 0;
        });
        return command;
    }

    private static Command Simulate(CliEnvironment env)
    {
        var (keyStore, key) = ScopeOptions();
        var file = new Option<FileInfo?>("--file") { Description = "A candidate rule document to try instead of the stored rules of the key (with --key) or key store" };
        var request = new Option<FileInfo?>("--request")
        {
            Description = "Sample call(s) as JSON: {\"operation\":\"encrypt\",\"requestMetadata\":{...},\"sourceIp\":\"...\",\"signingRegion\":\"...\"} or a list of them",
        };
        var replay = new Option<int?>("--replay") { Description = "Also decide the last N XKS calls of the key store (or key) from the audit log", CustomParser = WholeNumber.Int32 };
        var command = new Command("simulate", "Show the decision and the deciding rule for sample calls or recent XKS calls, without changing anything.") { keyStore, key, file, request, replay };
        command.SetClientAction(env, async (call, ct) =>
        {
            var (store, k) = (call.Parse.GetValue(keyStore), call.Parse.GetValue(key));
            if (store is null && k is null)
            {
                throw new CliException("Give --keystore or --key.", CliException.Usage);
            }

            JsonElement? document = call.Parse.GetValue(file) is { } f ? ParseJson(await ReadFileAsync(f, ct), f.Name) : null;
            List<SimulatedCall>? samples = null;
            if (call.Parse.GetValue(request) is { } r)
            {
                var text = await ReadFileAsync(r, ct);
                samples = ParseJson(text, r.Name).ValueKind == JsonValueKind.Array
                    ? Deserialize(text, ManagementJson.Default.ListSimulatedCall, r.Name)
                    : [Deserialize(text, ManagementJson.Default.SimulatedCall, r.Name)];
            }

            var body = new SimulateRequest(
                store is null ? null : await Lookup.KeyStoreIdAsync(call.Api, store, ct),
                k is null ? null : await Lookup.KeyIdAsync(call.Api, k, ct),
                document, samples, call.Parse.GetValue(replay));
            var result = await call.Api.PostAsync(ManagementClient.Route("policy", "simulate"), body, ManagementJson.Default.SimulateRequest, ManagementJson.Default.SimulateResponse, ct);
            if (call.Json)
            {
                Json.Write(call.Out, result.Json);
                return 0;
            }

            // With a candidate, its decision stands beside the stored rules' and whether they differ.
            var simulated = result.Value;
            string[] compared = simulated.Differing is null ? [] : ["STORED RULES", "DIFFERS"];
            Table.Write(call.Out, ["DECISION", "BY", .. compared, "OPERATION", "KMS REQUEST ID", "KMS KEY ARN", "PRINCIPAL", "SOURCE IP"], simulated.Results.Select(x => (IReadOnlyList<string>)
            [
                x.Decision, x.Reason ?? "no rules", .. compared.Length == 0 ? [] : (string[])[x.StoredDecision ?? "-", x.Differs == true ? "yes" : "no"],
                x.Operation, x.KmsRequestId ?? "-", x.KmsKeyArn ?? "-", x.AwsPrincipalArn ?? "-", x.SourceIp ?? "-",
            ]));
            var differing = simulated.Differing is { } n ? $"; {n} decision(s) differ from the stored rules'" : "";
            await call.Out.WriteLineAsync($"{simulated.Results.Count} call(s) under {simulated.RuleCount} rule(s){differing}; nothing was changed.");
            return 0;
        });
        return command;
    }

    private static void Print(ClientCall call, ApiResult<PolicyView> view)
    {
        if (call.Json)
        {
            Json.Write(call.Out, view.Json);
            return;
        }

        // Only what is there: no "Set by" without a setter, and the document as the API gives it (no absent matchers).
        var v = view.Value;
        Table.Properties(call.Out,
        [
            ("Scope", $"{v.Scope} {v.ScopeId}"),
            ("Version", v.Version.ToString(CultureInfo.InvariantCulture) + (v.Cleared ? " (cleared: no rules)" : "")),
            ("Set at", v.CreatedAt.ToString("u", CultureInfo.InvariantCulture)),
            .. v.CreatedBy is { } by ? [("Set by", by)] : Array.Empty<(string, string)>(),
        ]);
        using var json = JsonDocument.Parse(view.Json);
        if (json.RootElement.TryGetProperty("document", out var document))
        {
            Json.Write(call.Out, document.GetRawText());
        }
    }

    // A rule document or sample file: JSON, or YAML when the name ends in .yaml or .yml.
    private static async Task<string> ReadFileAsync(FileInfo file, CancellationToken ct)
    {
        try
        {
            var text = await File.ReadAllTextAsync(file.FullName, ct);
            return YamlToJson.IsYaml(file) ? YamlToJson.Convert(text, file.Name) : text;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read {file.FullName}: {e.Message}", CliException.Usage);
        }
    }

    private static JsonElement ParseJson(string text, string name)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new CliException($"{name} is not JSON: {e.Message}", CliException.Usage);
        }
    }

    private static T Deserialize<T>(string text, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string name)
    {
        try
        {
            return JsonSerializer.Deserialize(text, type) ?? throw new CliException($"{name} holds no sample call.", CliException.Usage);
        }
        catch (JsonException e)
        {
            throw new CliException($"{name}: {e.Message}", CliException.Usage);
        }
    }
}
