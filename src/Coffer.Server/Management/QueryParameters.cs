using System.Collections.Frozen;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>
/// Holds a management call's query string to what its endpoint declares: the query parameters of
/// its handler, read from the API description the OpenAPI document is made of, so the document and
/// the check cannot disagree. A name the endpoint does not take, a name given more than once, a value
/// that is not of the parameter's type, or one outside its <see cref="RangeAttribute"/> is a 400
/// naming the parameter. Without it, minimal API binding ignores unknown names and joins repeated
/// values with commas ("a,b"), so a mistyped or repeated filter silently changed what a listing
/// showed, and the permission check, which reads <c>?keystore=</c> for a store-scoped grant, failed
/// with a 500 on two values. It runs between authentication and authorization (ManagementAccess).
/// </summary>
internal sealed class QueryParameters(IApiDescriptionGroupCollectionProvider descriptions)
{
    private readonly Lazy<FrozenDictionary<string, Contract>> _contracts = new(() => Load(descriptions));

    /// <summary>Answers a call whose query its endpoint does not take. A caller that must authenticate
    /// and has not is left to authorization, whose 401 comes first: the query is judged only for callers
    /// the endpoint would answer.</summary>
    public Task InvokeAsync(HttpContext http, RequestDelegate next) =>
        http.GetEndpoint()?.Metadata.GetMetadata<IAllowAnonymous>() is null && TokenAuthentication.CallerOf(http) is null
            ? next(http)
            : Refusal(http)?.ExecuteAsync(http) ?? next(http);

    /// <summary>Why this call's query is refused, or null when its endpoint takes it as it is.</summary>
    public ProblemHttpResult? Refusal(HttpContext http)
    {
        if (http.Request.Query.Count == 0 || http.GetEndpoint() is not RouteEndpoint endpoint
            || !_contracts.Value.TryGetValue(Key(http.Request.Method, endpoint.RoutePattern.RawText), out var contract))
        {
            return null;
        }

        foreach (var (name, values) in http.Request.Query)
        {
            if (!contract.Parameters.TryGetValue(name, out var parameter))
            {
                return Problems.BadRequest(contract.Parameters.Count == 0
                    ? $"Unknown query parameter '{name}': this call takes no query parameters."
                    : $"Unknown query parameter '{name}': this call takes {string.Join(", ", contract.Parameters.Keys.Order(StringComparer.Ordinal))}.");
            }

            if (values.Count > 1)
            {
                return Problems.BadRequest($"The query parameter '{parameter.Name}' is given {values.Count} times; it takes one value.");
            }

            if (!parameter.Accepts(values.ToString()))
            {
                return Problems.BadRequest($"The query parameter '{parameter.Name}' must be {parameter.Expected}.");
            }
        }

        return null;
    }

    private static FrozenDictionary<string, Contract> Load(IApiDescriptionGroupCollectionProvider descriptions) =>
        descriptions.ApiDescriptionGroups.Items.SelectMany(group => group.Items).ToFrozenDictionary(
            d => Key(d.HttpMethod ?? string.Empty, d.RelativePath),
            d => new Contract(d.ParameterDescriptions.Where(p => p.Source == BindingSource.Query)
                .ToFrozenDictionary(p => p.Name, p => Rule(d, p), StringComparer.OrdinalIgnoreCase)));

    private static string Key(string method, string? path) => method.ToUpperInvariant() + " " + path?.TrimStart('/');

    /// <summary>What a value must look like: parsed as minimal API binding parses it (invariant
    /// culture), so whatever passes here binds.</summary>
    private static Parameter Rule(ApiDescription operation, ApiParameterDescription parameter)
    {
        var type = Nullable.GetUnderlyingType(parameter.Type) ?? parameter.Type;
        var range = (parameter.ParameterDescriptor as IParameterInfoParameterDescriptor)?.ParameterInfo.GetCustomAttribute<RangeAttribute>();
        if (type == typeof(string))
        {
            return new Parameter(parameter.Name, _ => true, "text");
        }

        var whole = range is null ? "a whole number" : string.Create(CultureInfo.InvariantCulture, $"a whole number from {range.Minimum} to {range.Maximum}");
        if (type == typeof(int))
        {
            return new Parameter(parameter.Name, value => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && (range is null || range.IsValid(n)), whole);
        }

        if (type == typeof(long))
        {
            return new Parameter(parameter.Name, value => long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && (range is null || range.IsValid(n)), whole);
        }

        if (type == typeof(bool))
        {
            return new Parameter(parameter.Name, value => bool.TryParse(value, out _), "true or false");
        }

        if (type == typeof(DateTimeOffset))
        {
            return new Parameter(
                parameter.Name,
                value => DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out _),
                "a time in ISO 8601, such as 2026-01-31T00:00:00Z");
        }

        throw new InvalidOperationException(
            $"{operation.HttpMethod} /{operation.RelativePath}: the query parameter '{parameter.Name}' is a {type.Name}, which {nameof(QueryParameters)} has no rule for.");
    }

    /// <param name="Parameters">By name, as binding matches them: ignoring case.</param>
    private sealed record Contract(FrozenDictionary<string, Parameter> Parameters);

    /// <param name="Name">As the handler declares it.</param>
    /// <param name="Expected">What a value must be, for the refusal.</param>
    private sealed record Parameter(string Name, Func<string, bool> Accepts, string Expected);
}
