using Coffer.Audit;
using Coffer.Crypto;

namespace Coffer.Core.Tests.Audit;

/// <summary>
/// The canonical form and hash of docs/formats.md ("Audit record"), against vectors computed by an
/// independent implementation of that page (a short Python script, not this code).
/// </summary>
public sealed class AuditCanonicalTests
{
    private static readonly DateTimeOffset VectorTime = new(2026, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);

    internal static AuditEvent VectorEvent => new()
    {
        Action = "xks.encrypt",
        Outcome = AuditOutcome.Ok,
        ActorKind = "xks",
        ActorId = "AKIAEXAMPLE234567ABC",
        KeyStore = "ks_abc",
        KeyId = "key_def",
        KeyVersion = 3,
        LatencyMs = 1.25,
        SourceIp = "192.0.2.1",
        KmsRequestId = "4112f4d6-db54-4af4-ae30-c55a22a8dfae",
        AwsPrincipalArn = "arn:aws:iam::123456789012:user/Alice",
        KmsKeyArn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        AwsAccount = "123456789012",
        AwsRegion = "eu-west-1",
        KmsOperation = "Encrypt",
        AwsSourceVpce = "",
        Details = "café",
    };

    [Fact]
    public void Canonical_form_of_the_vector_record_is_byte_exact()
    {
        var canonical = AuditCanonical.Encode(VectorEvent, 1, VectorTime, "node-1");

        Assert.Equal(355, canonical.Length);
        Assert.Equal("0100000000000000010000019b7ca98f2e000000066e6f64652d310000000b786b732e656e637279", Convert.ToHexStringLower(canonical.AsSpan(0, 40)));
    }

    [Fact]
    public void Hash_of_the_first_record_chains_from_32_zero_bytes()
    {
        var record = AuditRecord.Create(VectorEvent, 1, VectorTime, "node-1", AuditRecord.GenesisHash);

        Assert.Equal(new byte[32], record.PrevHash);
        Assert.Equal("fcd783092f084775189f27f5a7b5330d13f925053f1aa699393ed7ce81a06d74", Convert.ToHexStringLower(record.Hash));
    }

    [Fact]
    public void Hash_of_the_second_record_covers_the_first_ones_hash()
    {
        var first = AuditRecord.Create(VectorEvent, 1, VectorTime, "node-1", AuditRecord.GenesisHash);
        var second = AuditRecord.Create(
            new AuditEvent { Action = "key.create", Outcome = AuditOutcome.Requested, ActorKind = "token", ActorId = "tok_x" },
            2, VectorTime, "node-1", first.Hash);

        Assert.Equal("0f1abfe9cf96854d7588b26891b01ab8918143c9dd3fc0d8a9739849d300dd7e", Convert.ToHexStringLower(second.Hash));
    }

    [Fact]
    public void Checkpoint_MAC_matches_the_vector()
    {
        var hash = Convert.FromHexString("fcd783092f084775189f27f5a7b5330d13f925053f1aa699393ed7ce81a06d74");
        var key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

        var mac = AuditCheckpointMac.Compute(key, 1, hash, VectorTime);

        Assert.Equal("7dfe6062b2478534dcd10ee3c866cb0da5f795a488059cbd7b9e5c6d517c88d2", Convert.ToHexStringLower(mac));
    }

    [Fact]
    public void Verified_checkpoint_MAC_matches_the_vector()
    {
        var hash = Convert.FromHexString("fcd783092f084775189f27f5a7b5330d13f925053f1aa699393ed7ce81a06d74");
        var key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

        var verified = AuditVerifiedCheckpoint.Create(key, 1, hash, VectorTime);

        Assert.Equal("7d1859943aee8b57acb7d922781e2a575455abd48ede4452d241f2f26a6b3270", Convert.ToHexStringLower(verified.Mac));
    }

    [Fact]
    public void Audit_checkpoint_key_is_HKDF_of_the_master_key_with_its_own_info()
    {
        using var master = MasterKey.FromBytes(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());

        var key = master.DeriveMacKey(MacPurpose.AuditCheckpoint);

        // HKDF-SHA256(ikm = 00..1f, salt = empty, info = "coffer/v1/mac/audit-checkpoint"), RFC 5869.
        Assert.Equal("967efaee5e2cd09ae7b7f97d29ed77318bbea6097d3aa0e113379a0ea722dbaf", Convert.ToHexStringLower(key));
        Assert.NotEqual(key, master.DeriveMacKey("other-purpose"));
    }

    [Fact]
    public void Seal_purposes_cannot_reach_into_the_MAC_key_space()
    {
        using var master = MasterKey.Generate();

        Assert.Throws<ArgumentException>(() => master.Seal("mac/audit-checkpoint", "", [1, 2, 3]));
    }

    [Fact]
    public void Null_and_empty_text_hash_differently()
    {
        var withNull = AuditRecord.Create(new AuditEvent { Action = "a", Details = null }, 1, VectorTime, "n", AuditRecord.GenesisHash);
        var withEmpty = AuditRecord.Create(new AuditEvent { Action = "a", Details = "" }, 1, VectorTime, "n", AuditRecord.GenesisHash);

        Assert.NotEqual(withNull.Hash, withEmpty.Hash);
    }

    [Fact]
    public void Every_field_is_covered_by_the_hash()
    {
        var baseline = AuditRecord.Create(VectorEvent, 1, VectorTime, "node-1", AuditRecord.GenesisHash).Hash;
        var variants = new AuditEvent[]
        {
            VectorEvent with { Action = "xks.decrypt" }, VectorEvent with { Outcome = AuditOutcome.Denied },
            VectorEvent with { ErrorName = "x" }, VectorEvent with { Reason = "x" }, VectorEvent with { ActorKind = "token" },
            VectorEvent with { ActorId = "x" }, VectorEvent with { KeyStore = "x" }, VectorEvent with { KeyId = "x" },
            VectorEvent with { KeyVersion = 4 }, VectorEvent with { KeyVersion = null }, VectorEvent with { LatencyMs = 1.251 },
            VectorEvent with { SourceIp = "x" }, VectorEvent with { KmsRequestId = "x" }, VectorEvent with { AwsPrincipalArn = "x" },
            VectorEvent with { KmsKeyArn = "x" }, VectorEvent with { AwsAccount = "x" }, VectorEvent with { AwsRegion = "x" },
            VectorEvent with { KmsOperation = "x" }, VectorEvent with { KmsViaService = "x" }, VectorEvent with { AwsSourceVpc = "x" },
            VectorEvent with { AwsSourceVpce = null }, VectorEvent with { Details = "x" },
        };

        var hashes = variants.Select(v => Convert.ToHexString(AuditRecord.Create(v, 1, VectorTime, "node-1", AuditRecord.GenesisHash).Hash)).ToList();

        Assert.DoesNotContain(Convert.ToHexString(baseline), hashes);
        Assert.Equal(variants.Length, hashes.Distinct().Count());
        Assert.NotEqual(baseline, AuditRecord.Create(VectorEvent, 2, VectorTime, "node-1", AuditRecord.GenesisHash).Hash);
        Assert.NotEqual(baseline, AuditRecord.Create(VectorEvent, 1, VectorTime.AddMilliseconds(1), "node-1", AuditRecord.GenesisHash).Hash);
        Assert.NotEqual(baseline, AuditRecord.Create(VectorEvent, 1, VectorTime, "node-2", AuditRecord.GenesisHash).Hash);
    }

    [Fact]
    public void Create_normalises_what_storage_could_not_return_unchanged()
    {
        var record = AuditRecord.Create(
            new AuditEvent { Action = "a", Details = new string('x', 5000), Reason = "bad \ud800 surrogate", LatencyMs = 0.0004 },
            1, VectorTime.AddTicks(1234), "n", AuditRecord.GenesisHash);

        Assert.Equal(AuditCanonical.MaxFieldLength, record.Event.Details!.Length);
        Assert.Equal("bad \ufffd surrogate", record.Event.Reason);
        Assert.Equal(0.0, record.Event.LatencyMs);
        Assert.Equal(VectorTime, record.Time);
        Assert.Equal(record.Hash, record.ComputeHash());
    }

    [Fact]
    public void Create_refuses_an_undefined_outcome()
    {
        Assert.Throws<ArgumentException>(() =>
            AuditRecord.Create(new AuditEvent { Action = "a", Outcome = (AuditOutcome)42 }, 1, VectorTime, "n", AuditRecord.GenesisHash));
    }

    [Theory]
    [InlineData(AuditOutcome.Ok, "ok")]
    [InlineData(AuditOutcome.Denied, "denied")]
    [InlineData(AuditOutcome.Error, "error")]
    [InlineData(AuditOutcome.Requested, "requested")]
    public void Outcomes_are_written_as_fixed_lower_case_names(AuditOutcome outcome, string text)
    {
        Assert.Equal(text, AuditOutcomes.ToText(outcome));
        Assert.True(AuditOutcomes.TryParse(text, out var parsed));
        Assert.Equal(outcome, parsed);
    }
}
