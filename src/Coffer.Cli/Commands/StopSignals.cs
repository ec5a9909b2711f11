using System.Runtime.InteropServices;

namespace Coffer.Cli.Commands;

/// <summary>
/// SIGINT (Ctrl+C) and SIGTERM (systemd, a container runtime, a test) ask a running server to stop: the
/// token this gives is cancelled, the server stops its nodes in order (listeners, audit flush, seal, and
/// for dev --cluster its PostgreSQL) and the process exits 0 once that is done, however long it takes.
/// The library's own handling is off (CofferCli): it ends the process after a fixed 2 s, mid-stop on a
/// loaded machine, and lets the signal's default action end it with 143 after a stop that finished.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly PosixSignalRegistration[] _registrations;

    private StopSignals(CancellationToken ct)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal)];
    }

    /// <summary>Cancelled by a stop signal or by the token the signals were made with.</summary>
    public CancellationToken Token => _stop.Token;

    /// <summary>Handles the stop signals until disposed.</summary>
    public static StopSignals Listen(CancellationToken ct) => new(ct);

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _stop.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        // Off the signal thread: cancellation runs the stop's first steps inline.
        _ = Task.Run(_stop.Cancel);
    }
}
