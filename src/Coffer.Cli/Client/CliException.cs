namespace Coffer.Cli.Client;

/// <summary>A failure the CLI reports as one line on stderr and an exit code, without a stack trace.</summary>
internal class CliException : Exception
{
    /// <summary>Exit code of a failed operation.</summary>
    public const int Failure = 1;

    /// <summary>Exit code of a usage error (bad option value, missing setting).</summary>
    public const int Usage = 2;

    /// <summary>Exit code of a guarded call that was not run but held for approval (docs/users.md, "Quorum approvals").</summary>
    public const int ApprovalPending = 3;

    public CliException()
    {
    }

    public CliException(string message) : base(message)
    {
    }

    public CliException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public CliException(string message, int exitCode) : base(message) => ExitCode = exitCode;

    /// <summary>A refusal of the management API, with its HTTP status.</summary>
    public CliException(string message, System.Net.HttpStatusCode status) : base(message) => Status = status;

    public int ExitCode { get; } = Failure;

    /// <summary>The management API's status when it refused the call; null for any other failure.</summary>
    public System.Net.HttpStatusCode? Status { get; }
}
