namespace Coffer.Server.Lifecycle;

/// <summary>The audit actions of changes no caller asked for (actor kind <c>system</c>).</summary>
internal static class LifecycleAuditActions
{
    /// <summary>A rotation policy's due time (or its lead before expiry) came, and the key rotated.</summary>
    public const string RotateScheduled = "key.rotate.scheduled";

    /// <summary>A PreActive version's activation time passed; recorded as Active.</summary>
    public const string ActivateScheduled = "key.version.activate.scheduled";

    /// <summary>An Active version's expiry (deactivation) time passed; recorded as Deactivated.</summary>
    public const string Expire = "key.version.expire";
}
