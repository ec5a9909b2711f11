using System.Net;
using System.Net.Sockets;

namespace Coffer.Testing;

/// <summary>How <see cref="TcpProxy.CutAsync"/> breaks the link.</summary>
public enum TcpCut
{
    /// <summary>Every open connection is reset (RST) and new ones are reset as soon as they connect:
    /// the peer is down and its host says so.</summary>
    Reset,

    /// <summary>A network partition: open connections stay up but every byte either side sends is
    /// swallowed, and new connections are accepted and then never answered. Only timeouts notice.</summary>
    Blackhole,
}

/// <summary>
/// A loopback TCP forwarder a test puts between a node and a server it depends on (PostgreSQL), to
/// cut the link (<see cref="CutAsync"/>) and restore it (<see cref="Restore"/>) while both sides keep
/// running.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly HashSet<Link> _links = [];
    private readonly Task _accepting;
    private TcpCut? _cut;

    private TcpProxy(IPEndPoint target)
    {
        _target = target;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The loopback port that forwards to the target.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Forwards a new loopback port to <paramref name="targetPort"/> on 127.0.0.1.</summary>
    public static TcpProxy Start(int targetPort) => new(new IPEndPoint(IPAddress.Loopback, targetPort));

    /// <summary>Breaks the link the way <paramref name="how"/> says, for the open connections and for
    /// new ones until <see cref="Restore"/>.</summary>
    public async Task CutAsync(TcpCut how = TcpCut.Reset)
    {
        Link[] open;
        lock (_gate)
        {
            _cut = how;
            open = [.. _links];
        }

        foreach (var link in open)
        {
            if (how == TcpCut.Reset)
            {
                await link.ResetAsync();
            }
            else
            {
                link.Blackhole();
            }
        }
    }

    /// <summary>New connections are forwarded again. Connections the cut left open are reset: the
    /// bytes they lost make their streams unusable (as a real connection times out during a long
    /// partition).</summary>
    public void Restore()
    {
        Link[] open;
        lock (_gate)
        {
            _cut = null;
            open = [.. _links];
        }

        foreach (var link in open)
        {
            _ = link.ResetAsync();
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        TcpCut? cut;
        lock (_gate)
        {
            cut = _cut;
        }

        Socket? server = null;
        if (cut is null)
        {
            server = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await server.ConnectAsync(_target, _stopping.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                // The target is down: the client learns it the same way.
                server.Dispose();
                Link.Reset(client);
                return;
            }
        }

        var link = new Link(client, server);
        lock (_gate)
        {
            _links.Add(link);
            cut = _cut; // a cut may have come while this connection was being set up
        }

        switch (cut)
        {
            case TcpCut.Reset:
                await link.ResetAsync();
                break;
            case TcpCut.Blackhole:
                link.Blackhole();
                break;
        }

        await link.RunAsync();
        lock (_gate)
        {
            _links.Remove(link);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        await _accepting;
        Link[] open;
        lock (_gate)
        {
            open = [.. _links];
        }

        foreach (var link in open)
        {
            await link.ResetAsync();
        }

        _stopping.Dispose();
    }

    /// <summary>One client connection and its connection to the target (none when it was accepted
    /// during a blackhole).</summary>
    private sealed class Link(Socket client, Socket? server)
    {
        private readonly CancellationTokenSource _reset = new();
        private volatile bool _swallow = server is null;
        private Task _running = Task.CompletedTask;

        public async Task RunAsync()
        {
            _running = Task.WhenAll(PumpAsync(client, server), server is null ? Task.CompletedTask : PumpAsync(server, client));
            try
            {
                await _running;
            }
            finally
            {
                client.Dispose();
                server?.Dispose();
            }
        }

        public void Blackhole() => _swallow = true;

        public async Task ResetAsync()
        {
            await _reset.CancelAsync();
            Reset(client);
            if (server is not null)
            {
                Reset(server);
            }

            await _running;
        }

        // SO_LINGER with a zero timeout: close sends RST instead of FIN.
        public static void Reset(Socket socket)
        {
            try
            {
                socket.LingerState = new LingerOption(true, 0);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Already closed.
            }

            socket.Dispose();
        }

        private async Task PumpAsync(Socket from, Socket? to)
        {
            var buffer = new byte[16 * 1024];
            try
            {
                while (true)
                {
                    var read = await from.ReceiveAsync(buffer, _reset.Token);
                    if (read == 0)
                    {
                        // An orderly close passes on as one, unless the link is cut (then nothing passes).
                        if (!_swallow)
                        {
                            to?.Shutdown(SocketShutdown.Send);
                        }

                        return;
                    }

                    if (!_swallow && to is not null)
                    {
                        await to.SendAsync(buffer.AsMemory(0, read), _reset.Token);
                    }
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // Reset by us or by either side: the other side is reset too.
                if (!_reset.IsCancellationRequested)
                {
                    Reset(from);
                    if (to is not null)
                    {
                        Reset(to);
                    }
                }
            }
        }
    }
}
