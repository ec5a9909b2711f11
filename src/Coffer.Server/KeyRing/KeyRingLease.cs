namespace Coffer.Server.KeyRing;

/// <summary>One request's hold on a key ring (<see cref="Seal.SealManager.LeaseKeyRing"/>): its secrets and
/// keys stay intact until this is disposed, however the ring is replaced meanwhile.</summary>
internal readonly struct KeyRingLease(KeyRingSnapshot ring) : IDisposable
{
    public KeyRingSnapshot Ring { get; } = ring;

    public void Dispose() => Ring.Release();
}
