using Microsoft.Extensions.DependencyInjection;

namespace Coffer.Server.Services;

/// <summary>
/// The services that decide management changes (docs/architecture.md, "Endpoints, services,
/// storage"). Endpoints, approved requests and the lifecycle scheduler all change state through them.
/// </summary>
internal static class ManagementServices
{
    public static IServiceCollection AddManagementServices(this IServiceCollection services) => services
        .AddSingleton<KeyStores.KeyStoreService>()
        .AddSingleton<Keys.KeyService>()
        .AddSingleton<Lifecycle.KeyLifecycleService>()
        .AddSingleton<Lifecycle.KeyDestructionService>()
        .AddSingleton<Lifecycle.ScheduledChangeService>()
        .AddSingleton<Lifecycle.BulkRotationService>()
        .AddSingleton<KillSwitches.KillSwitchService>()
        .AddSingleton<Policies.AccessRuleService>()
        .AddSingleton<Policies.RegionSetService>()
        .AddSingleton<Approvals.QuorumPolicyService>()
        .AddSingleton<Approvals.Commands.CommandServices>()
        .AddSingleton<Approvals.ApprovalExecutor>()
        .AddSingleton<Backup.BackupService>();
}
