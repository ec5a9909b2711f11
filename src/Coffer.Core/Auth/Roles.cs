namespace Coffer.Auth;

/// <summary>Management roles. Only administrators exist until role-based access lands.</summary>
public static class Roles
{
    public const string Administrator = "administrator";
}
