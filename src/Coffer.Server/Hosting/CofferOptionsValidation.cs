using Coffer.Server.Alerts;
using Coffer.Server.Audit.Sinks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Coffer.Server.Hosting;

/// <summary>
/// The node's configuration, checked by every <see cref="IValidateOptions{CofferOptions}"/> before any
/// part opens (<c>ValidateOnStart</c>): a configuration that cannot work stops the start with
/// <see cref="OptionsValidationException"/>, one message per problem, each naming its setting as a
/// configuration path (<c>Xks:Port</c>, the JSON section and the <c>COFFER_Xks__Port</c> variable).
/// </summary>
internal static class CofferOptionsValidation
{
    public static void AddCofferOptions(this IServiceCollection services, CofferOptions options)
    {
        services.AddSingleton(options);
        // The options are built by the caller (coffer server binds them from its configuration, tests
        // set them), so the factory hands out that instance instead of binding a new one.
        services.AddSingleton<IOptionsFactory<CofferOptions>>(node => new GivenOptions(options, node.GetServices<IValidateOptions<CofferOptions>>()));
        services.AddOptions<CofferOptions>().ValidateOnStart();
        services.AddSingleton<IValidateOptions<CofferOptions>, SealOptionsValidator>();
        services.AddSingleton<IValidateOptions<CofferOptions>, ListenerOptionsValidator>();
        services.AddSingleton<IValidateOptions<CofferOptions>, OidcOptionsValidator>();
        services.AddSingleton<IValidateOptions<CofferOptions>, AuditSinkOptionsValidator>();
        services.AddSingleton<IValidateOptions<CofferOptions>, Coffer.Server.Audit.Retention.AuditRetentionOptionsValidator>();
        services.AddSingleton<IValidateOptions<CofferOptions>, AlertOptionsValidator>();
        services.AddSingleton<IValidateOptions<CofferOptions>, ClusterOptionsValidator>();
        services.AddSingleton<IValidateOptions<CofferOptions>, Telemetry.TelemetryOptionsValidator>();
    }

    /// <summary>The same checks, for a caller that writes files before it starts a node (coffer dev):
    /// a refused configuration must leave nothing behind.</summary>
    /// <exception cref="OptionsValidationException">Naming every problem.</exception>
    public static void ThrowIfInvalid(CofferOptions options)
    {
        var services = new ServiceCollection();
        services.AddCofferOptions(options);
        using var checks = services.BuildServiceProvider();
        _ = checks.GetRequiredService<IOptions<CofferOptions>>().Value;
    }

    private sealed class GivenOptions(CofferOptions options, IEnumerable<IValidateOptions<CofferOptions>> validators)
        : OptionsFactory<CofferOptions>([], [], validators)
    {
        protected override CofferOptions CreateInstance(string name) => options;
    }
}

/// <summary>A validator's findings: one message per problem, each starting with its setting's path.</summary>
internal sealed class OptionsProblems
{
    private readonly List<string> _problems = [];

    /// <summary>Records <paramref name="problem"/> unless <paramref name="holds"/>.</summary>
    public void Require(bool holds, string problem)
    {
        if (!holds)
        {
            _problems.Add(problem);
        }
    }

    public ValidateOptionsResult Result => _problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_problems);
}
