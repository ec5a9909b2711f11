using System.Globalization;
using System.Text;
using Coffer.Crypto;

namespace Coffer.Hsm;

/// <summary>
/// What the database stores for a key version of the pkcs11 backend: where the key lives in the
/// token, never the key (docs/pkcs11.md, "Stored reference").
/// </summary>
/// <remarks>
/// <code>
/// created by Coffer:  0x02 || CKA_ID(16)                 || UTF-8(CKA_LABEL = "coffer:{keyId}:v{version}")
/// imported:           0x03 || u8(len(CKA_ID)) || CKA_ID  || UTF-8(CKA_LABEL as found in the token)
/// </code>
/// A created reference is bound to its key id and version by the label the token holds: OpenKey
/// requires the label it expects, and finds the object by CKA_ID and that label, so a row moved to
/// another key finds nothing. An imported reference can be bound only by the row it sits in.
/// </remarks>
internal sealed record Pkcs11KeyReference(byte Format, byte[] Id, string Label)
{
    public const byte CreatedFormat = 0x02;
    public const byte ImportedFormat = 0x03;
    public const int CreatedIdLength = 16;
    public const string HealthLabel = "coffer:health";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static string LabelFor(string keyId, int version)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        return string.Create(CultureInfo.InvariantCulture, $"coffer:{keyId}:v{version}");
    }

    public byte[] Encode()
    {
        var label = StrictUtf8.GetBytes(Label);
        if (Format == CreatedFormat)
        {
            return [CreatedFormat, .. Id, .. label];
        }

        return [ImportedFormat, (byte)Id.Length, .. Id, .. label];
    }

    /// <exception cref="CryptoException">Not a reference this backend wrote.</exception>
    public static Pkcs11KeyReference Decode(ReadOnlySpan<byte> stored)
    {
        if (stored.Length < 2)
        {
            throw new CryptoException("The stored HSM key reference is too short.");
        }

        int labelStart;
        byte[] id;
        switch (stored[0])
        {
            case CreatedFormat when stored.Length > 1 + CreatedIdLength:
                id = stored.Slice(1, CreatedIdLength).ToArray();
                labelStart = 1 + CreatedIdLength;
                break;
            case ImportedFormat when stored.Length > 2 + stored[1]:
                id = stored.Slice(2, stored[1]).ToArray();
                labelStart = 2 + stored[1];
                break;
            default:
                throw new CryptoException("The stored material is not a pkcs11 key reference (unknown format byte or wrong length).");
        }

        string label;
        try
        {
            label = StrictUtf8.GetString(stored[labelStart..]);
        }
        catch (ArgumentException e)
        {
            throw new CryptoException("The stored HSM key reference has a label that is not UTF-8.", e);
        }

        return new Pkcs11KeyReference(stored[0], id, label);
    }
}
