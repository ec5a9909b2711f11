using System.Text;
using System.Text.RegularExpressions;

namespace Coffer.Server.Cluster;

/// <summary>
/// The node id (<see cref="Hosting.CofferOptions.NodeId"/>): it names the node in audit records, the
/// cluster registry, XKS health answers and logs, so it is a short token safe in all of them.
/// </summary>
internal static partial class NodeIdentity
{
    public const int MaxLength = 63;

    /// <summary>The default: the host name, lower-cased, with anything but letters, digits, '.', '_' and
    /// '-' made '-'. Stable across restarts of one host; two hosts need different names.</summary>
    public static string FromHostName(string hostName)
    {
        var id = new StringBuilder(Math.Min(hostName.Length, MaxLength));
        foreach (var c in hostName.AsSpan(0, Math.Min(hostName.Length, MaxLength)))
        {
            id.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? char.ToLowerInvariant(c) : '-');
        }

        var text = id.ToString().TrimStart('.', '_', '-');
        return text.Length == 0 ? "coffer" : text;
    }

    /// <summary>Why <paramref name="nodeId"/> is not a safe token, or null when it is
    /// (<see cref="Hosting.ClusterOptionsValidator"/> refuses the start with it).</summary>
    public static string? Problem(string? nodeId)
    {
        if (nodeId is not null && SafeToken().IsMatch(nodeId))
        {
            return null;
        }

        var shown = nodeId is null ? "nothing" : $"'{Logging.LogText.Escape(nodeId.Length > MaxLength ? nodeId[..MaxLength] + "..." : nodeId)}'";
        return $"NodeId must be 1 to {MaxLength} ASCII letters, digits, '.', '_' or '-', starting with a letter or digit; it is {shown}.";
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex SafeToken();
}
