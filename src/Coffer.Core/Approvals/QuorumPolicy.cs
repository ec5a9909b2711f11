using System.Buffers;

namespace Coffer.Approvals;

/// <summary>
/// A quorum policy: calls of any of <see cref="Operations"/> do not run when asked; they
/// become approval requests that run once <see cref="RequiredApprovals"/> members of
/// <see cref="ApproverGroup"/> other than the requester have approved them within <see cref="Lifetime"/>.
/// </summary>
/// <param name="Name">1..64 of [A-Za-z0-9._-], unique.</param>
/// <param name="Operations">Names from <see cref="QuorumOperations"/>; each operation is covered by one policy at most.</param>
/// <param name="RequiredApprovals">M, 1..<see cref="MaxRequiredApprovals"/>.</param>
/// <param name="ApproverGroup">A group name as in <c>Caller.Groups</c>.</param>
/// <param name="Lifetime">How long a request waits for its votes before it expires.</param>
public sealed record QuorumPolicy(
    string Name,
    IReadOnlyList<string> Operations,
    int RequiredApprovals,
    string ApproverGroup,
    TimeSpan Lifetime,
    DateTimeOffset UpdatedAt,
    string UpdatedBy)
{
    /// <summary>A bound that still lets a large team of approvers work, while refusing numbers that can only be mistakes.</summary>
    public const int MaxRequiredApprovals = 16;

    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(24);

    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(30);

    private static readonly SearchValues<char> GroupTail = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789-");

    /// <summary>The identity contract's group names: lower-case <c>[a-z0-9][a-z0-9-]{0,63}</c>.</summary>
    public static bool IsValidGroupName(string? group) =>
        group is { Length: >= 1 and <= 64 } && (char.IsAsciiLetterLower(group[0]) || char.IsAsciiDigit(group[0]))
        && !group.AsSpan().ContainsAnyExcept(GroupTail);

    /// <summary>What is wrong with these settings for a user to read, or null when they are valid.</summary>
    public static string? Problem(IReadOnlyList<string>? operations, int? requiredApprovals, string? approverGroup, int? lifetimeHours)
    {
        if (operations is null || operations.Count == 0)
        {
            return "operations is required: one or more of " + string.Join(", ", QuorumOperations.All) + ".";
        }

        if (operations.FirstOrDefault(o => !QuorumOperations.IsKnown(o)) is { } unknown)
        {
            return $"Unknown operation '{unknown}': operations are {string.Join(", ", QuorumOperations.All)}.";
        }

        if (operations.Distinct(StringComparer.Ordinal).Count() != operations.Count)
        {
            return "operations names an operation twice.";
        }

        if (requiredApprovals is not { } m || m < 1 || m > MaxRequiredApprovals)
        {
            return $"requiredApprovals is 1 to {MaxRequiredApprovals}: how many approvers other than the requester must approve.";
        }

        if (!IsValidGroupName(approverGroup))
        {
            return "approverGroup is a group name: 1 to 64 of lower-case letters, digits and '-', starting with a letter or digit.";
        }

        return lifetimeHours is { } hours && (hours < 1 || hours > MaxLifetime.TotalHours)
            ? $"lifetimeHours is 1 to {MaxLifetime.TotalHours:0} (default {DefaultLifetime.TotalHours:0})."
            : null;
    }
}
