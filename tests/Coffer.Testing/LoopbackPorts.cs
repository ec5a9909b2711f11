using System.Net;
using System.Net.Sockets;

namespace Coffer.Testing;

public static class LoopbackPorts
{
    /// <summary>A port on 127.0.0.1 that was free a moment ago. Another process may take it before
    /// the caller binds it: callers that cannot pass port 0 retry on "address in use".</summary>
    public static int Free()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
