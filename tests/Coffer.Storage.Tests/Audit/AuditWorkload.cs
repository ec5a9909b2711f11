using System.Globalization;
using Coffer.Audit;

namespace Coffer.Storage.Tests.Audit;

/// <summary>
/// A realistic mix of audit records, the same for every run (seeded): mostly XKS encrypts and decrypts
/// from AWS KMS for a few principals and twenty keys (some used far more than others), with every
/// requestMetadata field a real call carries and a fresh kmsRequestId each, a few refusals and errors,
/// and now and then a management change (requested, then ok).
/// </summary>
internal sealed class AuditWorkload(int seed)
{
    private static readonly string[] Principals =
    [
        "arn:aws:iam::123456789012:role/ebs-encryption",
        "arn:aws:iam::123456789012:role/app-backend",
        "arn:aws:sts::210987654321:assumed-role/data-pipeline/i-0abc1234567890def",
        "arn:aws:iam::123456789012:user/alice",
    ];

    private static readonly string?[] ViaServices = ["ebs", "s3", "rds", null];

    private static readonly string[] SourceIps = ["3.120.181.40", "3.120.181.41", "18.194.91.7"];

    private readonly Random _random = new(seed);

    private readonly (string Id, string Name, string Arn)[] _keys = MakeKeys(new Random(~seed));

    /// <summary>The next event.</summary>
    public AuditEvent Next()
    {
        var roll = _random.Next(100);
        if (roll == 0)
        {
            // A management change: its request and its outcome come as two records.
            return new AuditEvent
            {
                Action = "key.rotate", Outcome = _random.Next(2) == 0 ? AuditOutcome.Requested : AuditOutcome.Ok,
                ActorKind = "user", ActorId = "usr_7d1f0c9e2b", KeyStore = "ks_0b9c5d2e7f1a4c3b", KeyId = Key().Id, SourceIp = "10.1.2.3",
                LatencyMs = 3.5,
            };
        }

        var key = Key();
        var encrypt = _random.Next(3) != 0;
        var failed = roll == 1;
        return new AuditEvent
        {
            Action = encrypt ? AuditActions.XksEncrypt : AuditActions.XksDecrypt,
            Outcome = failed ? AuditOutcome.Error : AuditOutcome.Ok,
            ErrorName = failed ? "InvalidCiphertextException" : null,
            ActorKind = AuditActorKinds.Xks,
            ActorId = "AKIA4GBY3I6JCE5M2HPM",
            KeyStore = "ks_0b9c5d2e7f1a4c3b",
            KeyId = key.Id,
            KeyVersion = 1 + _random.Next(2),
            LatencyMs = (80 + _random.Next(3000)) / 1000.0,
            SourceIp = SourceIps[_random.Next(SourceIps.Length)],
            KmsRequestId = new Guid(Bytes(_random, 16)).ToString(),
            AwsPrincipalArn = Principals[_random.Next(Principals.Length)],
            KmsOperation = encrypt ? "Encrypt" : "Decrypt",
            KmsViaService = ViaServices[_random.Next(ViaServices.Length)],
            AwsSourceVpc = _random.Next(2) == 0 ? "vpc-0a1b2c3d4e5f60718" : null,
            AwsSourceVpce = _random.Next(2) == 0 ? "vpce-0a1b2c3d4e5f60718" : "",
            Details = "externalKeyId=" + key.Name,
        }.WithKmsKeyArn(key.Arn);
    }

    /// <summary><paramref name="count"/> records chained after <paramref name="head"/>, stamped with <paramref name="time"/>.</summary>
    public List<AuditRecord> Chain(AuditHead head, int count, DateTimeOffset time)
    {
        var records = new List<AuditRecord>(count);
        var previous = head.Hash;
        for (var i = 1; i <= count; i++)
        {
            var record = AuditRecord.Create(Next(), head.Sequence + i, time, "node-1", previous);
            records.Add(record);
            previous = record.Hash;
        }

        return records;
    }

    private static (string Id, string Name, string Arn)[] MakeKeys(Random random) => [.. Enumerable.Range(0, 20).Select(i => (
        string.Create(CultureInfo.InvariantCulture, $"key_{random.NextInt64():x16}"),
        string.Create(CultureInfo.InvariantCulture, $"app-key-{i}"),
        string.Create(CultureInfo.InvariantCulture, $"arn:aws:kms:eu-central-1:123456789012:key/{new Guid(Bytes(random, 16))}")))];

    /// <summary>Appends <paramref name="count"/> records to an empty audit log in batches of
    /// <see cref="BatchSizeUnderLoad"/> records, each with its checkpoint, as the audit writer commits them.</summary>
    public async Task<long> AppendAsync(IAuditRepository audit, int count)
    {
        var sizes = new Random(seed);
        var key = new byte[32];
        var head = AuditHead.Empty;
        var time = new DateTimeOffset(2026, 12, 7, 18, 0, 0, TimeSpan.Zero);
        while (head.Sequence < count)
        {
            var records = Chain(head, sizes.Next(BatchSizeUnderLoad.Min, BatchSizeUnderLoad.Max + 1), time);
            head = new AuditHead(records[^1].Sequence, records[^1].Hash);
            await audit.AppendAsync(records, AuditCheckpointMac.Create(key, head.Sequence, head.Hash, time));
            time = time.AddMilliseconds(1);
        }

        return head.Sequence;
    }

    /// <summary>Records per commit of the audit writer at about 8,000 to 20,000 XKS calls a second on the
    /// reference machine (docs/audit-storage.md).</summary>
    public static (int Min, int Max) BatchSizeUnderLoad => (8, 40);

    // Some keys far busier than others.
    private (string Id, string Name, string Arn) Key() => _keys[(int)(_random.NextDouble() * _random.NextDouble() * _keys.Length)];

    private static byte[] Bytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }
}
