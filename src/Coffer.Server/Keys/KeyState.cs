using Coffer.Keys;

namespace Coffer.Server.Keys;

/// <summary>A key with its versions as storage holds them, read after a change to answer with.</summary>
internal sealed record KeyState(ManagedKey Key, IReadOnlyList<KeyVersion> Versions);
