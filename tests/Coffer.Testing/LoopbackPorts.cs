using System.Net;
using System.Net.Sockets;

namespace Coffer.Testing;

public static class LoopbackPorts
{
    // Below Linux's ephemeral range (32768-60999 by default): the kernel hands those to every port-0
    // listener and outgoing connection of the whole suite, so a port found free there was often taken
    // again before a child process bound it. Here only another pick can take it, and picks start at
    // a random place, so two test processes rarely meet.
    private const int First = 20000;
    private const int Count = 12000;
    private static int _next = Random.Shared.Next(Count);

    /// <summary>A port on 127.0.0.1 that was free a moment ago and that this process has not handed out
    /// before. Another process may still take it before the caller binds it: callers that cannot pass
    /// port 0 retry on "address in use".</summary>
    public static int Free()
    {
        for (var tries = 0; tries < Count; tries++)
        {
            var port = First + (Interlocked.Increment(ref _next) % Count);
            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                return port;
            }
            catch (SocketException)
            {
            }
        }

        throw new InvalidOperationException($"No free port on 127.0.0.1 between {First} and {First + Count - 1}.");
    }
}
