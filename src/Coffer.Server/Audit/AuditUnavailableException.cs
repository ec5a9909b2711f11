namespace Coffer.Server.Audit;

/// <summary>
/// The audit log could not make a record durable, so the operation it describes must not happen
/// (fail closed, docs/design.md "Audit"). Nothing of the record was written. At the XKS edge this is
/// InternalException; at the management edge 503 "Audit log unavailable".
/// </summary>
/// <remarks>The message never carries storage details; those go to the server log.</remarks>
internal sealed class AuditUnavailableException : Exception
{
    public AuditUnavailableException()
        : base("The audit log is unavailable; the operation was not carried out.")
    {
    }

    public AuditUnavailableException(Exception inner)
        : base("The audit log is unavailable; the operation was not carried out.", inner)
    {
    }

    public AuditUnavailableException(string message)
        : base(message)
    {
    }

    public AuditUnavailableException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
