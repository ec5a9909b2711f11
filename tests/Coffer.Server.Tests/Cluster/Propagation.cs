using System.Diagnostics;

namespace Coffer.Server.Tests.Cluster;

/// <summary>How long a change made on one node takes to be in force on another.</summary>
internal static class Propagation
{
    /// <summary>Polls <paramref name="condition"/> back to back; gives up after 5 s.</summary>
    public static async Task<double> MillisecondsUntilAsync(Func<Task<bool>> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), "the change reached the other node within 5 s");
        }

        return watch.Elapsed.TotalMilliseconds;
    }
}
