using System.Globalization;
using Coffer.Changes;

namespace Coffer.Server.Changes.Postgres;

/// <summary>
/// A <see cref="ChangeNotice"/> as the text of a PostgreSQL notification (docs/formats.md, "Change
/// notifications"): <c>1:&lt;topic number&gt;:&lt;node id&gt;</c>. The leading version lets a newer
/// node change the format; a node that cannot read a payload reloads everything. It names a topic and a
/// node, nothing secret.
/// </summary>
internal static class ChangePayload
{
    public const string Channel = "coffer_changes";
    private const string Version = "1";

    public static string Format(ChangeNotice notice) =>
        string.Create(CultureInfo.InvariantCulture, $"{Version}:{(int)notice.Topic}:{notice.NodeId}");

    /// <summary>The notice in <paramref name="payload"/>; false for any other version or shape. An
    /// unknown topic number parses (the feed reloads everything for it).</summary>
    public static bool TryParse(string? payload, out ChangeNotice notice)
    {
        notice = null!;
        var parts = payload?.Split(':', 3);
        if (parts is not [Version, var topic, var node] || string.IsNullOrEmpty(node)
            || !int.TryParse(topic, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        notice = new ChangeNotice((ChangeTopic)number, node);
        return true;
    }
}
