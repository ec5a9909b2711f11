namespace Coffer.Crypto;

/// <summary>
/// Arithmetic in GF(2^8) with the AES reduction polynomial x^8 + x^4 + x^3 + x + 1 (0x11B,
/// FIPS-197 section 4.2), for <see cref="Shamir"/>.
/// </summary>
/// <remarks>
/// Constant-time by construction: no lookup tables (log/exp tables leak the secret operand through
/// the cache) and no branch on operand values; every call runs the same instructions.
/// </remarks>
internal static class Gf256
{
    /// <summary>Carry-less "Russian peasant" multiply with reduction by 0x11B (FIPS-197 4.2.1).</summary>
    public static byte Multiply(byte a, byte b)
    {
        int x = a;
        int y = b;
        int product = 0;
        for (var i = 0; i < 8; i++)
        {
            // -(bit) is 0 or all ones: add x when the low bit of y is set, without a branch.
            product ^= x & -(y & 1);
            // xtime(): multiply x by the polynomial "x"; reduce when bit 7 was set, without a branch.
            var carry = -((x >> 7) & 1);
            x = (x << 1) ^ (0x11B & carry);
            y >>= 1;
        }

        return (byte)product;
    }

    /// <summary>The multiplicative inverse, a^254 (a^255 = 1 for a != 0); Inverse(0) is 0.</summary>
    /// <remarks>A fixed chain of 7 squarings and 6 multiplies, whatever the value of a.</remarks>
    public static byte Inverse(byte a)
    {
        // a^254 = a^2 * a^4 * a^8 * a^16 * a^32 * a^64 * a^128
        var power = Multiply(a, a);
        var result = power;
        for (var i = 0; i < 6; i++)
        {
            power = Multiply(power, power);
            result = Multiply(result, power);
        }

        return result;
    }

    public static byte Divide(byte a, byte b) => Multiply(a, Inverse(b));
}
