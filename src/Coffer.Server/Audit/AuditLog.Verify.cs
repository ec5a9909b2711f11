using System.Security.Cryptography;
using Coffer.Audit;
using Coffer.Server.Seal;

namespace Coffer.Server.Audit;

internal sealed partial class AuditLog
{
    /// <summary>Records per read while verifying; bounds memory, not the chain's length.</summary>
    internal const int VerifyPageSize = 5000;

    /// <summary>
    /// Walks the stored chain with <see cref="AuditChainVerifier"/> against this node's own head, so a
    /// removed tail is found as well as changed, missing, reordered and rebuilt records.
    /// </summary>
    /// <exception cref="SealedException">Sealed: without the master key no checkpoint can be checked.</exception>
    /// <param name="anchor">A head kept outside the database earlier; the chain must still hold it.</param>
    public Task<AuditVerification> VerifyAsync(AuditHead? anchor = null, CancellationToken ct = default) =>
        VerifyAsync(anchor, VerifyPageSize, ct);

    /// <param name="pageSize">Records per read (tests use small pages to cross page boundaries).</param>
    internal async Task<AuditVerification> VerifyAsync(AuditHead? anchor, int pageSize, CancellationToken ct)
    {
        // The head first: everything up to it is committed, so the storage must hold at least that.
        var head = Head;
        var key = CopyCheckpointKey() ?? throw new SealedException();
        try
        {
            var verifier = new AuditChainVerifier(key, Enabled ? head : null, anchor: anchor);
            var from = 1L;
            while (true)
            {
                Coffer.Storage.AuditChainPage page;
                try
                {
                    page = await _repository.ReadChainAsync(from, pageSize, ct);
                }
                catch (Exception e) when (e is InvalidCastException or FormatException or ArgumentException or OverflowException)
                {
                    // A column of the wrong type (an editor's doing) must be reported, not crash verify.
                    return new AuditVerification(0, from - 1, 0,
                        new AuditProblem(AuditProblemKind.Changed, from, $"records from {from} on cannot be read: a stored value has the wrong type ({e.GetType().Name})"));
                }

                if (!verifier.Add(page.Records, page.Checkpoints) || page.IsLast)
                {
                    break;
                }

                from = page.Records[^1].Sequence + 1;
            }

            return verifier.Complete();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
