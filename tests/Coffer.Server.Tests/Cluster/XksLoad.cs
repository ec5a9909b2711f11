using Coffer.Testing;

namespace Coffer.Server.Tests.Cluster;

/// <summary>
/// A small bounded load on one node while a test breaks something: one encrypt at a time, 50 ms apart,
/// at most <see cref="MaxCalls"/>. Keeps the kmsRequestId of every call answered 200 and every other answer.
/// Read the lists only once <see cref="RunAsync"/> has completed.
/// </summary>
internal sealed class XksLoad(XksClient xks, string keyId)
{
    /// <summary>Over 50 s of calls: longer than a test keeps a load running.</summary>
    private const int MaxCalls = 1000;

    public List<string> Answered { get; } = [];

    public List<XksResponse> Refused { get; } = [];

    public async Task RunAsync(CancellationToken ct)
    {
        for (var call = 0; call < MaxCalls && !ct.IsCancellationRequested; call++)
        {
            var id = XksRequests.NewRequestId();
            var response = await xks.EncryptAsync(keyId, [2], kmsRequestId: id);
            if (response.Status == 200)
            {
                Answered.Add(id);
            }
            else
            {
                Refused.Add(response);
            }

            await Task.Delay(50, CancellationToken.None);
        }
    }
}
