using System.Security.Cryptography;
using System.Text;
using Coffer.Crypto;

namespace Coffer.Core.Tests.Crypto;

public sealed class XksCiphertextTests
{
    [Theory]
    [InlineData(1, "0100000001")]
    [InlineData(2, "0100000002")]
    [InlineData(0x01020304, "0101020304")]
    [InlineData(int.MaxValue, "017FFFFFFF")]
    public void Metadata_is_format_byte_then_big_endian_version_and_round_trips(int version, string hex)
    {
        var metadata = new byte[XksCiphertext.MetadataLength];

        XksCiphertext.WriteMetadata(version, metadata);

        Assert.Equal(hex, Convert.ToHexString(metadata));
        Assert.True(XksCiphertext.TryReadMetadata(metadata, out var read));
        Assert.Equal(version, read);
    }

    [Theory]
    [InlineData("")]
    [InlineData("01")]
    [InlineData("01000001")]
    [InlineData("010000000100")]
    [InlineData("0200000001")]
    [InlineData("0000000001")]
    [InlineData("0100000000")]
    [InlineData("0180000000")]
    [InlineData("01FFFFFFFF")]
    public void TryReadMetadata_rejects_wrong_length_unknown_format_and_versions_below_1(string hex)
    {
        Assert.False(XksCiphertext.TryReadMetadata(Convert.FromHexString(hex), out var version));
        Assert.Equal(0, version);
    }

    [Fact]
    public void WriteMetadata_rejects_versions_below_1_and_short_destinations()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => XksCiphertext.WriteMetadata(0, new byte[5]));
        Assert.Throws<ArgumentOutOfRangeException>(() => XksCiphertext.WriteMetadata(-1, new byte[5]));
        Assert.Throws<ArgumentException>(() => XksCiphertext.WriteMetadata(1, new byte[4]));
    }

    [Fact]
    public void BuildAad_is_u16be_length_aad_u8_length_metadata()
    {
        // Hand-computed: aad "AB" (2 bytes), metadata 01 00 00 00 07 (5 bytes).
        var aad = "AB"u8.ToArray();
        var metadata = new byte[] { 0x01, 0x00, 0x00, 0x00, 0x07 };
        var destination = new byte[XksCiphertext.AadLength(aad.Length, metadata.Length)];

        XksCiphertext.BuildAad(aad, metadata, destination);

        Assert.Equal("0002" + "4142" + "05" + "0100000007", Convert.ToHexString(destination));
    }

    [Fact]
    public void BuildAad_with_empty_aad_and_metadata_is_three_zero_bytes()
    {
        var destination = new byte[XksCiphertext.AadLength(0, 0)];

        XksCiphertext.BuildAad([], [], destination);

        Assert.Equal("000000", Convert.ToHexString(destination));
    }

    [Fact]
    public void BuildAad_with_only_aad_or_only_metadata_writes_zero_lengths_for_the_absent_one()
    {
        var onlyAad = new byte[XksCiphertext.AadLength(1, 0)];
        var onlyMetadata = new byte[XksCiphertext.AadLength(0, 1)];

        XksCiphertext.BuildAad([0xAA], [], onlyAad);
        XksCiphertext.BuildAad([], [0xBB], onlyMetadata);

        Assert.Equal("0001AA00", Convert.ToHexString(onlyAad));
        Assert.Equal("000001BB", Convert.ToHexString(onlyMetadata));
    }

    [Fact]
    public void BuildAad_with_a_long_aad_writes_its_length_big_endian()
    {
        var aad = new byte[0x1234];
        var destination = new byte[XksCiphertext.AadLength(aad.Length, 0)];

        XksCiphertext.BuildAad(aad, [], destination);

        Assert.Equal(0x12, destination[0]);
        Assert.Equal(0x34, destination[1]);
        Assert.Equal(0, destination[^1]);
    }

    [Fact]
    public void Moving_metadata_into_the_aad_changes_the_AES_GCM_AAD()
    {
        // The spec's NOTE under Encrypt: no aad + metadata M must not equal aad M + no metadata.
        var metadata = new byte[] { 0x01, 0, 0, 0, 1 };
        var original = new byte[XksCiphertext.AadLength(0, 5)];
        var moved = new byte[XksCiphertext.AadLength(5, 0)];

        XksCiphertext.BuildAad([], metadata, original);
        XksCiphertext.BuildAad(metadata, [], moved);

        Assert.NotEqual(original, moved);
    }

    [Fact]
    public void BuildAad_rejects_oversized_inputs_and_wrong_destination_lengths()
    {
        Assert.Throws<ArgumentException>(() => XksCiphertext.BuildAad(new byte[65536], [], new byte[65536 + 3]));
        Assert.Throws<ArgumentException>(() => XksCiphertext.BuildAad([], new byte[256], new byte[256 + 3]));
        Assert.Throws<ArgumentException>(() => XksCiphertext.BuildAad([1], [2], new byte[4]));
        Assert.Throws<ArgumentException>(() => XksCiphertext.BuildAad([1], [2], new byte[6]));

        // The limits themselves are accepted.
        XksCiphertext.BuildAad(new byte[65535], new byte[255], new byte[65535 + 255 + 3]);
    }

    [Fact]
    public void Cdiv_matches_the_worked_example_of_XKS_spec_Appendix_C()
    {
        // XKS proxy API spec, Appendix C: 33 bytes AAD, 13 bytes metadata, IV, ciphertext, tag, and
        // the resulting SHA-256 a870...5ec7 ("qHA/ImC9h5HsLRXqCyPmWgYx7tzyoTplzILbP0fPXsc=").
        var aad = Encoding.ASCII.GetBytes("project=nile,department=marketing");
        var metadata = Encoding.ASCII.GetBytes("key_version=1");
        var iv = Convert.FromHexString("1ccae5470f39700254779031");
        var ciphertext = Convert.FromHexString("821c642b5b71783367deaf18");
        var tag = Convert.FromHexString("bc1c4dda7707d6812447c5955e99b261");
        var cdiv = new byte[XksCiphertext.CdivLength];

        XksCiphertext.ComputeCdiv(aad, metadata, iv, ciphertext, tag, cdiv);

        Assert.Equal("a8703f2260bd8791ec2d15ea0b23e65a0631eedcf2a13a65cc82db3f47cf5ec7", Convert.ToHexString(cdiv).ToLowerInvariant());
        Assert.Equal("qHA/ImC9h5HsLRXqCyPmWgYx7tzyoTplzILbP0fPXsc=", Convert.ToBase64String(cdiv));
    }

    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(33, 5, 12)]
    [InlineData(8192, 5, 4300)]
    public void Cdiv_equals_SHA256_of_the_plain_concatenation(int aadLength, int metadataLength, int ciphertextLength)
    {
        var aad = RandomNumberGenerator.GetBytes(aadLength);
        var metadata = RandomNumberGenerator.GetBytes(metadataLength);
        var iv = RandomNumberGenerator.GetBytes(12);
        var ciphertext = RandomNumberGenerator.GetBytes(ciphertextLength);
        var tag = RandomNumberGenerator.GetBytes(16);
        var cdiv = new byte[32];

        XksCiphertext.ComputeCdiv(aad, metadata, iv, ciphertext, tag, cdiv);

        var expected = SHA256.HashData([.. aad, .. metadata, .. iv, .. ciphertext, .. tag]);
        Assert.Equal(expected, cdiv);
    }

    [Fact]
    public void Cdiv_rejects_a_destination_that_is_not_32_bytes()
    {
        Assert.Throws<ArgumentException>(() => XksCiphertext.ComputeCdiv([], [], new byte[12], [], new byte[16], new byte[31]));
    }
}
