namespace Coffer.Server.Management.Oidc;

/// <summary>Microsoft.IdentityModel's process-wide switches Coffer sets. The library reads each once, at
/// its first use in the process, so they must be set before anything uses it.</summary>
public static class OidcSwitches
{
    /// <summary>After a requested refresh, the next configuration read waits for the new key set.</summary>
    public const string UpdateConfigAsBlocking = "Switch.Microsoft.IdentityModel.UpdateConfigAsBlocking";
}
