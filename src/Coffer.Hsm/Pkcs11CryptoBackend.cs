using System.Security.Cryptography;
using Coffer.Crypto;
using Coffer.Keys;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Coffer.Hsm;

/// <summary>
/// The <c>pkcs11</c> backend (docs/design.md, "Crypto backends"; docs/pkcs11.md): AES-256 keys are
/// generated inside the token as persistent, sensitive, non-extractable objects and every AES-GCM
/// operation runs in the HSM. The database stores only a <see cref="Pkcs11KeyReference"/>.
/// </summary>
/// <remarks>
/// Thread-safe. Failures as <see cref="ICryptoBackend"/> says: <see cref="CryptoException"/> (a
/// reference or object that is wrong, a non-fatal PKCS#11 code), <see cref="CryptoBackendUnavailableException"/>
/// (token unreachable, a fatal code; Coffer reconnects by itself) and <see cref="CryptoBackendBusyException"/>
/// (no free session within the timeout). Keys returned by
/// <see cref="OpenKey"/> and <see cref="CreateHealthCheckKey"/> belong to the caller.
/// </remarks>
internal sealed class Pkcs11CryptoBackend : ICryptoBackend
{
    private readonly Lock _healthGate = new();
    private volatile bool _disposed;

    public Pkcs11CryptoBackend(Pkcs11Options options, TimeProvider? time = null)
    {
        Token = new Pkcs11Token(options, time);
    }

    public string Name => "pkcs11";

    internal Pkcs11Token Token { get; }

    /// <summary>Connects now so a wrong module, token or PIN shows at start-up.</summary>
    public void Connect() => Token.Connect();

    /// <summary>Logs out by closing the idle sessions; used when Coffer seals.</summary>
    public void LogOut() => Token.DropSessions();

    /// <summary>CKA_ENCRYPT / CKA_DECRYPT are set from <paramref name="usage"/>, so the token enforces
    /// it too (XKS Encrypt's verifying decrypt needs both).</summary>
    public byte[] CreateKeyMaterial(string keyId, int version, KeyUsage usage)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var label = Pkcs11KeyReference.LabelFor(keyId, version);
        var id = RandomNumberGenerator.GetBytes(Pkcs11KeyReference.CreatedIdLength);
        Generate(label, id, usage);
        return new Pkcs11KeyReference(Pkcs11KeyReference.CreatedFormat, id, label).Encode();
    }

    /// <summary>Opens a stored reference. A created key must carry the label of
    /// <paramref name="keyId"/>/<paramref name="version"/>. When the token is unreachable the key is
    /// returned unresolved and finds its object on first use.</summary>
    public IAeadKey OpenKey(string keyId, int version, byte[] storedMaterial)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(storedMaterial);
        var reference = Pkcs11KeyReference.Decode(storedMaterial);
        var expected = Pkcs11KeyReference.LabelFor(keyId, version);
        if (reference.Format == Pkcs11KeyReference.CreatedFormat && !string.Equals(reference.Label, expected, StringComparison.Ordinal))
        {
            throw new CryptoException($"The stored HSM key reference belongs to '{reference.Label}', not '{expected}'.");
        }

        var key = new Pkcs11AeadKey(Token, reference);
        try
        {
            key.Resolve();
        }
        catch (CryptoBackendUnavailableException)
        {
            // Start-up with the HSM down (or busy) must not mark every key broken: it resolves on first use.
        }
        catch (Pkcs11Exception e)
        {
            key.Dispose();
            throw new CryptoException($"The HSM key '{reference.Label}' could not be opened: {Pkcs11Errors.Describe(e)}.", e);
        }
        catch (CryptoException)
        {
            key.Dispose();
            throw;
        }

        return key;
    }

    /// <summary>The dedicated health-check object "coffer:health" (a persistent, non-extractable
    /// AES-256 key created on first use), never a customer key (XKS spec, GetHealthStatus).</summary>
    public IAeadKey CreateHealthCheckKey()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var reference = new Pkcs11KeyReference(Pkcs11KeyReference.ImportedFormat, [], Pkcs11KeyReference.HealthLabel);
        lock (_healthGate)
        {
            var exists = Run(session => Pkcs11Objects.FindSecretKeys(session, Pkcs11KeyReference.HealthLabel, null).Count > 0);
            if (!exists)
            {
                Generate(Pkcs11KeyReference.HealthLabel, [], KeyUsage.EncryptDecrypt);
            }
        }

        return new Pkcs11AeadKey(Token, reference);
    }

    /// <summary>
    /// The key of the <c>pkcs11</c> seal: a non-extractable AES-256 token object found by label,
    /// made when <paramref name="create"/> and absent (<c>coffer init</c>). It encrypts the master
    /// key, so the master key exists in clear only in memory (docs/pkcs11.md, "Seal").
    /// </summary>
    /// <exception cref="CryptoException">No usable key has that label (and none was to be made).</exception>
    public IAeadKey OpenSealKey(string label, bool create)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentException.ThrowIfNullOrEmpty(label);
        lock (_healthGate)
        {
            var problem = Run(session =>
            {
                var found = Pkcs11Objects.FindSecretKeys(session, label, null);
                return found.Count switch
                {
                    0 => create ? null : $"the HSM holds no secret key labelled '{label}'",
                    1 => Pkcs11Objects.WhyUnusable(session, found[0]),
                    _ => $"the HSM holds {found.Count} secret keys labelled '{label}'",
                };
            });
            if (problem is not null)
            {
                throw new CryptoException($"The seal key cannot be used: {problem}.");
            }

            if (create && Run(session => Pkcs11Objects.FindSecretKeys(session, label, null).Count) == 0)
            {
                Generate(label, [], KeyUsage.EncryptDecrypt);
            }
        }

        return new Pkcs11AeadKey(Token, new Pkcs11KeyReference(Pkcs11KeyReference.ImportedFormat, [], label));
    }

    /// <summary>Adopts an existing token key by label, if it is a sensitive, non-extractable AES-256
    /// secret key; returns its stored reference. <see cref="CryptoException"/> says why not.</summary>
    public byte[] ImportKey(string label)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentException.ThrowIfNullOrEmpty(label);
        if (label.StartsWith("coffer:", StringComparison.Ordinal))
        {
            throw new CryptoException($"'{label}' is a Coffer-made object label; import only keys created outside Coffer.");
        }

        return Run(session =>
        {
            var found = Pkcs11Objects.FindSecretKeys(session, label, null);
            if (found.Count == 0)
            {
                throw new CryptoException($"The HSM holds no secret key labelled '{label}'.");
            }

            if (found.Count > 1)
            {
                throw new CryptoException($"The HSM holds {found.Count} secret keys labelled '{label}'; give each a unique label before importing.");
            }

            var problem = Pkcs11Objects.WhyUnusable(session, found[0]);
            if (problem is not null)
            {
                throw new CryptoException($"The HSM key '{label}' cannot be imported: {problem}. Coffer imports only non-extractable, sensitive AES-256 keys.");
            }

            var values = session.GetAttributeValue(found[0], [CKA.CKA_ID]);
            var id = values[0].CannotBeRead ? [] : values[0].GetValueAsByteArray() ?? [];
            if (id.Length > byte.MaxValue)
            {
                throw new CryptoException($"The HSM key '{label}' has a CKA_ID longer than 255 bytes.");
            }

            return new Pkcs11KeyReference(Pkcs11KeyReference.ImportedFormat, id, label).Encode();
        });
    }

    /// <summary>Destroys the token object a stored reference names (C_DestroyObject). Irreversible:
    /// every ciphertext under that key version becomes undecryptable. An object already gone is not
    /// an error (false): a sweep that stopped before recording the destruction runs this again.</summary>
    /// <remarks>A created reference must carry the label of <paramref name="keyId"/>/<paramref name="version"/>,
    /// as in <see cref="OpenKey"/>, so a row moved to another key cannot destroy that key's object.
    /// An imported (adopted) key is destroyed like any other: adopting it handed it to Coffer.</remarks>
    public bool DestroyKeyMaterial(string keyId, int version, byte[] storedMaterial)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(storedMaterial);
        var reference = Pkcs11KeyReference.Decode(storedMaterial);
        var expected = Pkcs11KeyReference.LabelFor(keyId, version);
        if (reference.Format == Pkcs11KeyReference.CreatedFormat && !string.Equals(reference.Label, expected, StringComparison.Ordinal))
        {
            throw new CryptoException($"The stored HSM key reference belongs to '{reference.Label}', not '{expected}'; nothing was destroyed.");
        }

        return Run(session =>
        {
            var found = Pkcs11Objects.FindSecretKeys(session, reference.Label, reference.Format == Pkcs11KeyReference.CreatedFormat || reference.Id.Length > 0 ? reference.Id : null);
            if (found.Count > 1)
            {
                throw new CryptoException($"The HSM holds {found.Count} secret keys labelled '{reference.Label}' with the same CKA_ID; Coffer will not guess which to destroy.");
            }

            if (found.Count == 0)
            {
                return false;
            }

            session.DestroyObject(found[0]);
            return true;
        });
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Token.Dispose();
    }

    private void Generate(string label, byte[] id, KeyUsage usage)
    {
        Run(session =>
        {
            var attributes = session.Factories.ObjectAttributeFactory;
            var template = new List<IObjectAttribute>
            {
                attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
                attributes.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
                attributes.Create(CKA.CKA_VALUE_LEN, 32UL),
                attributes.Create(CKA.CKA_TOKEN, true),
                attributes.Create(CKA.CKA_PRIVATE, true),
                attributes.Create(CKA.CKA_SENSITIVE, true),
                attributes.Create(CKA.CKA_EXTRACTABLE, false),
                attributes.Create(CKA.CKA_MODIFIABLE, false),
                attributes.Create(CKA.CKA_ENCRYPT, usage.HasFlag(KeyUsage.Encrypt)),
                attributes.Create(CKA.CKA_DECRYPT, usage.HasFlag(KeyUsage.Decrypt)),
                attributes.Create(CKA.CKA_WRAP, false),
                attributes.Create(CKA.CKA_UNWRAP, false),
                attributes.Create(CKA.CKA_SIGN, false),
                attributes.Create(CKA.CKA_VERIFY, false),
                attributes.Create(CKA.CKA_DERIVE, false),
                attributes.Create(CKA.CKA_LABEL, label),
            };
            if (id.Length > 0)
            {
                template.Add(attributes.Create(CKA.CKA_ID, id));
            }

            try
            {
                using var mechanism = session.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN);
                session.GenerateKey(mechanism, template);
                return 0;
            }
            finally
            {
                Pkcs11Objects.DisposeAll(template);
            }
        });
    }

    // Token.Run, with the non-fatal PKCS#11 errors turned into CryptoException.
    private T Run<T>(Func<ISession, T> operation)
    {
        try
        {
            return Token.Run(operation);
        }
        catch (Pkcs11Exception e)
        {
            throw new CryptoException($"The HSM refused the operation: {Pkcs11Errors.Describe(e)}.", e);
        }
    }
}
