using Microsoft.Extensions.Options;

namespace Coffer.Server.Hosting;

/// <summary>How the node keeps its caches in step with the database (<see cref="ClusterOptions"/>).</summary>
internal sealed class ClusterOptionsValidator : IValidateOptions<CofferOptions>
{
    public ValidateOptionsResult Validate(string? name, CofferOptions options)
    {
        var problems = new OptionsProblems();
        problems.Require(options.Cluster.FullReloadSeconds is >= 1 and <= 3600,
            $"Cluster:FullReloadSeconds must be 1..3600, not {options.Cluster.FullReloadSeconds}: the full reload is what retries a cache that failed to reload.");
        return problems.Result;
    }
}
