namespace Coffer.Cli.Tests;

/// <summary>A test that changes the machine (installs a package, adds a user): it runs as root, as CI
/// does, and reports itself skipped, saying why, for anyone else.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Skip = "needs root (it installs and purges the Coffer package and adds the coffer user): run as root, as CI does.";
        }
    }
}
