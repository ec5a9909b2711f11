using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Coffer.Testing;

/// <summary>Secret keys that tests put into a token themselves, as a customer's own tools would
/// (for import tests: extractable, short, non-AES or proper non-extractable AES-256 keys).</summary>
public static class Pkcs11TestKeys
{
    public static IObjectHandle Make(ISession session, string label, CKK type, ulong length, bool extractable, bool sensitive = true, byte[]? id = null)
    {
        var attributes = session.Factories.ObjectAttributeFactory;
        var template = new List<IObjectAttribute>
        {
            attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
            attributes.Create(CKA.CKA_KEY_TYPE, type),
            attributes.Create(CKA.CKA_VALUE_LEN, length),
            attributes.Create(CKA.CKA_TOKEN, true),
            attributes.Create(CKA.CKA_SENSITIVE, sensitive),
            attributes.Create(CKA.CKA_EXTRACTABLE, extractable),
            attributes.Create(CKA.CKA_ENCRYPT, true),
            attributes.Create(CKA.CKA_DECRYPT, true),
            attributes.Create(CKA.CKA_LABEL, label),
        };
        if (id is not null)
        {
            template.Add(attributes.Create(CKA.CKA_ID, id));
        }

        var mechanism = type == CKK.CKK_AES ? CKM.CKM_AES_KEY_GEN : CKM.CKM_GENERIC_SECRET_KEY_GEN;
        using var generate = session.Factories.MechanismFactory.Create(mechanism);
        return session.GenerateKey(generate, template);
    }
}
