using System.Text;
using Coffer.Audit;

namespace Coffer.Core.Tests.Audit;

/// <summary>The audit store keeps canonical bodies; reading one back must give exactly the record that
/// was hashed, and anything else must be refused rather than guessed at.</summary>
public sealed class AuditCanonicalReaderTests
{
    [Fact]
    public void A_body_reads_back_as_its_event_and_node()
    {
        var e = AuditCanonical.Normalize(AuditCanonicalTests.VectorEvent with { Reason = "", ErrorName = null, KeyVersion = -5 });
        var body = AuditCanonical.EncodeBody(e, "node-ü");

        Assert.True(AuditCanonicalReader.TryDecodeBody(body, out var read, out var node));

        Assert.Equal(e, read);
        Assert.Equal("node-ü", node);
        Assert.Equal(body, AuditCanonical.EncodeBody(read, node));
    }

    [Fact]
    public void Every_cut_of_a_body_and_a_byte_too_many_are_refused()
    {
        var body = AuditCanonical.EncodeBody(AuditCanonicalTests.VectorEvent, "node-1");

        for (var length = 0; length < body.Length; length++)
        {
            Assert.False(AuditCanonicalReader.TryDecodeBody(body.AsSpan(0, length), out _, out _), $"a body cut to {length} bytes was read");
        }

        Assert.False(AuditCanonicalReader.TryDecodeBody([.. body, 0], out _, out _));
    }

    [Fact]
    public void Invalid_utf8_an_unknown_outcome_and_a_null_action_are_refused()
    {
        var body = AuditCanonical.EncodeBody(new AuditEvent { Action = "a", Details = "xy" }, "n");
        var badUtf8 = body.ToArray();
        badUtf8[^2] = 0xC3; // a lead byte followed by 'y': not UTF-8
        Assert.False(AuditCanonicalReader.TryDecodeBody(badUtf8, out _, out _));

        var okText = Encoding.UTF8.GetBytes("ok");
        var at = body.AsSpan().IndexOf(okText);
        var unknown = body.ToArray();
        unknown[at] = (byte)'n'; // "nk"
        Assert.False(AuditCanonicalReader.TryDecodeBody(unknown, out _, out _));

        var nullAction = body.ToArray();
        var actionLength = 4 + 1; // after str("n")
        nullAction.AsSpan(actionLength, 4).Fill(0xFF);
        Assert.False(AuditCanonicalReader.TryDecodeBody(nullAction, out _, out _));
    }
}
