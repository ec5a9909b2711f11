using Coffer.Testing;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace Coffer.Server.Tests.Management;

/// <summary>
/// A query parameter given twice, with a value that is not of its type, or that the call does not
/// take, is a 400 problem naming it, through the real server. The calls and their parameters are read
/// from the server's OpenAPI document, so a new list endpoint or filter is covered without being
/// named here; the tables say what a malformed value of each parameter type is.
/// </summary>
public sealed class QueryParameterTests(SharedNode fixture) : IClassFixture<SharedNode>
{
    /// <summary>Values no parameter of the type takes, by the type (and format) of its schema.</summary>
    private static readonly Dictionary<string, string[]> Malformed = new()
    {
        ["integer"] = ["ten", "1.5", "99999999999999999999", ""],
        ["boolean"] = ["maybe", "1", ""],
        ["string/date-time"] = ["yesterday", "2026-13-01", ""],
    };

    /// <summary>A well-formed value of each type, sent twice.</summary>
    private static readonly Dictionary<string, string> WellFormed = new()
    {
        ["integer"] = "1",
        ["boolean"] = "true",
        ["string/date-time"] = "2026-01-31T00:00:00Z",
        ["string"] = "x",
    };

    /// <summary>Text filters whose values are a closed set: one value outside it each.</summary>
    private static readonly (string Path, string Parameter, string Value)[] OutsideTheirSet =
    [
        ("/api/v1/audit/records", "outcome", "maybe"),
        ("/api/v1/audit/report", "format", "xml"),
        ("/api/v1/audit/export", "format", "xml"),
        ("/api/v1/audit/export", "outcome", "maybe"),
        ("/api/v1/alerts/deliveries", "state", "lost"),
        ("/api/v1/approvals", "state", "open"),
    ];

    /// <summary>The list endpoints with filters of today, so that reading them from the document
    /// cannot silently find none.</summary>
    private static readonly (string Path, string[] Parameters)[] KnownLists =
    [
        ("/api/v1/keys", ["keystore", "q", "tag", "enabled", "after", "limit"]),
        ("/api/v1/audit/records", ["from", "to", "keyId", "keyStore", "actor", "action", "outcome", "kmsRequestId", "region", "account", "before", "limit"]),
        ("/api/v1/alerts/deliveries", ["state", "webhook", "limit"]),
        ("/api/v1/approvals", ["state", "limit"]),
        ("/api/v1/kill-switches", ["all"]),
    ];

    private HttpClient Admin => fixture.Admin;

    [Fact]
    public async Task The_document_shows_the_list_filters_and_every_page_size_is_1_to_1000()
    {
        var operations = await GetOperationsAsync();

        foreach (var (path, parameters) in KnownLists)
        {
            var documented = Assert.Single(operations, o => o.Path == path).Parameters.Select(p => p.Name);
            Assert.Subset(documented.ToHashSet(StringComparer.Ordinal), parameters.ToHashSet(StringComparer.Ordinal));
        }

        var limits = operations.SelectMany(o => o.Parameters.Where(p => p.Name == "limit")).ToList();
        Assert.NotEmpty(limits);
        Assert.All(limits, p => Assert.Equal((1L, 1000L), (p.Minimum, p.Maximum)));
    }

    [Fact]
    public async Task Every_query_parameter_given_twice_is_a_400_naming_it()
    {
        var wrong = new List<string>();
        foreach (var operation in await GetOperationsAsync())
        {
            foreach (var parameter in operation.Parameters)
            {
                var value = Uri.EscapeDataString(WellFormed[parameter.Type]);
                await ExpectRefusalAsync(wrong, operation, $"{parameter.Name}={value}&{parameter.Name}={value}", $"'{parameter.Name}' is given 2 times");
            }
        }

        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
    }

    [Fact]
    public async Task Every_typed_query_parameter_with_a_malformed_or_out_of_range_value_is_a_400_naming_it()
    {
        var wrong = new List<string>();
        var checkedTypes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var operation in await GetOperationsAsync())
        {
            foreach (var parameter in operation.Parameters)
            {
                var values = Malformed.GetValueOrDefault(parameter.Type, []).ToList();
                values.AddRange(new[] { parameter.Minimum - 1, parameter.Maximum + 1 }.OfType<long>().Select(n => n.ToString(CultureInfo.InvariantCulture)));
                foreach (var value in values)
                {
                    await ExpectRefusalAsync(wrong, operation, $"{parameter.Name}={Uri.EscapeDataString(value)}", $"'{parameter.Name}' must be");
                }

                if (values.Count > 0)
                {
                    checkedTypes.Add(parameter.Type);
                }
            }
        }

        foreach (var (path, parameter, value) in OutsideTheirSet)
        {
            await ExpectRefusalAsync(wrong, new Operation("GET", path, []), $"{parameter}={value}", parameter + " is ");
        }

        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
        Assert.Equal(Malformed.Keys.Order(StringComparer.Ordinal), checkedTypes.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task An_unknown_query_parameter_is_a_400_naming_it_on_every_read()
    {
        var wrong = new List<string>();
        foreach (var operation in await GetOperationsAsync())
        {
            await ExpectRefusalAsync(wrong, operation, "keystroe=x", "Unknown query parameter 'keystroe'");
        }

        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
    }

    [Fact]
    public async Task A_change_with_an_unknown_query_parameter_is_refused_and_changes_nothing()
    {
        var name = ManagementApi.Unique("ks");

        using var response = await Admin.PostJsonAsync("/api/v1/keystores?dryRun=true", new { name, uriPrefix = "/" + name });

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("'dryRun'", (string)problem["detail"]!, StringComparison.Ordinal);
        Assert.DoesNotContain((await Admin.GetJsonAsync("/api/v1/keystores")).AsArray(), s => (string?)s!["name"] == name);
    }

    [Fact]
    public async Task A_store_scoped_token_listing_keys_with_two_keystore_filters_gets_a_400_not_a_500()
    {
        var mine = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        var theirs = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        using var created = await Admin.PostJsonAsync("/api/v1/tokens", new { name = ManagementApi.Unique("scoped"), role = "key-officer", keyStoreId = mine });
        using var team = ManagementApi.ClientWith(fixture.Node, "Bearer " + (string)(await created.JsonAsync(HttpStatusCode.Created))["token"]!);

        using var same = await team.GetAsync($"/api/v1/keys?keystore={mine}&keystore={mine}");
        using var another = await team.GetAsync($"/api/v1/keys?keystore={mine}&KeyStore={theirs}");
        using var once = await team.GetAsync($"/api/v1/keys?keystore={mine}");

        foreach (var twice in new[] { same, another })
        {
            var problem = await twice.ProblemAsync(HttpStatusCode.BadRequest);
            Assert.Contains("'keystore' is given 2 times", (string)problem["detail"]!, StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.OK, once.StatusCode);
    }

    [Fact]
    public async Task Without_a_token_a_malformed_query_is_still_a_401()
    {
        using var anonymous = ManagementApi.ClientWith(fixture.Node, null);

        using var response = await anonymous.GetAsync("/api/v1/keys?keystore=a&keystore=b&nope=1");

        await response.ProblemAsync(HttpStatusCode.Unauthorized);
    }

    /// <summary>Sends the query to the operation; unless the answer is a 400 problem whose detail holds
    /// <paramref name="naming"/>, adds what came back to <paramref name="wrong"/>.</summary>
    private async Task ExpectRefusalAsync(List<string> wrong, Operation operation, string query, string naming)
    {
        using var request = new HttpRequestMessage(new HttpMethod(operation.Method), Fill(operation.Path) + "?" + query);
        using var response = await Admin.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var detail = response.Content.Headers.ContentType?.MediaType == ManagementApi.ProblemContentType ? (string?)JsonNode.Parse(text)?["detail"] : null;
        if (response.StatusCode != HttpStatusCode.BadRequest || detail?.Contains(naming, StringComparison.Ordinal) != true)
        {
            wrong.Add($"{operation.Method} {operation.Path}?{query}: {(int)response.StatusCode} {text}");
        }
    }

    /// <summary>Every path parameter as "1": the query is refused before the call looks anything up.</summary>
    private static string Fill(string path) => System.Text.RegularExpressions.Regex.Replace(path, "{[^}]+}", "1");

    /// <summary>The document's reads (GET operations), each with its query parameters.</summary>
    private async Task<List<Operation>> GetOperationsAsync()
    {
        var document = await Admin.GetJsonAsync("/api/v1/openapi.json");
        var operations = new List<Operation>();
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            if (item!["get"] is not { } get)
            {
                continue;
            }

            var parameters = (get["parameters"]?.AsArray() ?? []).Select(p => p!)
                .Where(p => (string?)p["in"] == "query")
                .Select(p => new QueryParameter((string)p["name"]!, TypeOf(p["schema"]!), Number(p["schema"]!["minimum"]), Number(p["schema"]!["maximum"])))
                .ToList();
            operations.Add(new Operation("GET", path, parameters));
        }

        Assert.NotEmpty(operations);
        return operations;
    }

    /// <summary>"integer", "boolean", "string" or "string/date-time". OpenAPI 3.1 may give a type as
    /// an array: with "null", and a number also as a "string" with a pattern.</summary>
    private static string TypeOf(JsonNode schema)
    {
        var types = schema["type"] is JsonArray many ? many.Select(t => (string)t!).ToList() : [(string)schema["type"]!];
        var type = new[] { "integer", "number", "boolean" }.FirstOrDefault(types.Contains) ?? "string";
        return schema["format"] is JsonValue format && type == "string" ? $"{type}/{format}" : type;
    }

    private static long? Number(JsonNode? value) => value is null ? null : long.Parse(value.ToString(), CultureInfo.InvariantCulture);

    private sealed record Operation(string Method, string Path, List<QueryParameter> Parameters);

    private sealed record QueryParameter(string Name, string Type, long? Minimum, long? Maximum);
}
