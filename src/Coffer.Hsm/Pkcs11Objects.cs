using Coffer.Crypto;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Coffer.Hsm;

/// <summary>Finding key objects in a session and checking they are keys Coffer may use.</summary>
internal static class Pkcs11Objects
{
    private static readonly List<CKA> CheckedAttributes =
    [
        CKA.CKA_CLASS, CKA.CKA_KEY_TYPE, CKA.CKA_VALUE_LEN, CKA.CKA_SENSITIVE, CKA.CKA_EXTRACTABLE, CKA.CKA_LABEL,
    ];

    /// <summary>All secret keys with this label (and CKA_ID, when given).</summary>
    public static List<IObjectHandle> FindSecretKeys(ISession session, string label, byte[]? id)
    {
        var attributes = session.Factories.ObjectAttributeFactory;
        var template = new List<IObjectAttribute>
        {
            attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
            attributes.Create(CKA.CKA_LABEL, label),
        };
        if (id is { Length: > 0 })
        {
            template.Add(attributes.Create(CKA.CKA_ID, id));
        }

        try
        {
            return session.FindAllObjects(template);
        }
        finally
        {
            DisposeAll(template);
        }
    }

    /// <summary>The one object a reference names, checked; <see cref="CryptoException"/> otherwise.</summary>
    public static IObjectHandle FindKey(ISession session, Pkcs11KeyReference reference)
    {
        var found = FindSecretKeys(session, reference.Label, reference.Format == Pkcs11KeyReference.CreatedFormat || reference.Id.Length > 0 ? reference.Id : null);
        if (found.Count == 0)
        {
            throw new CryptoException($"The HSM holds no secret key labelled '{reference.Label}' with the stored CKA_ID (destroyed, or the reference belongs to another key or version).");
        }

        if (found.Count > 1)
        {
            throw new CryptoException($"The HSM holds {found.Count} secret keys labelled '{reference.Label}' with the same CKA_ID; Coffer will not guess which to use.");
        }

        var problem = WhyUnusable(session, found[0]);
        if (problem is not null)
        {
            throw new CryptoException($"The HSM key '{reference.Label}' cannot be used: {problem}.");
        }

        return found[0];
    }

    /// <summary>Null when the object is a non-extractable, sensitive AES-256 secret key; otherwise the reason.</summary>
    public static string? WhyUnusable(ISession session, IObjectHandle handle)
    {
        var values = session.GetAttributeValue(handle, CheckedAttributes);
        if (values[0].CannotBeRead || values[0].GetValueAsUlong() != (ulong)CKO.CKO_SECRET_KEY)
        {
            return "it is not a secret key";
        }

        if (values[1].CannotBeRead || values[1].GetValueAsUlong() != (ulong)CKK.CKK_AES)
        {
            return "it is not an AES key (CKA_KEY_TYPE is not CKK_AES)";
        }

        if (values[2].CannotBeRead || values[2].GetValueAsUlong() != 32)
        {
            var length = values[2].CannotBeRead ? "unknown" : (values[2].GetValueAsUlong() * 8).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return $"it is not a 256-bit key (it has {length} bits)";
        }

        if (values[3].CannotBeRead || !values[3].GetValueAsBool())
        {
            return "it is not sensitive (CKA_SENSITIVE is false), so its value could be read out of the HSM";
        }

        if (values[4].CannotBeRead || values[4].GetValueAsBool())
        {
            return "it is extractable (CKA_EXTRACTABLE is true), so it could be wrapped out of the HSM";
        }

        return null;
    }

    public static void DisposeAll(List<IObjectAttribute> attributes)
    {
        foreach (var attribute in attributes)
        {
            attribute.Dispose();
        }
    }
}
