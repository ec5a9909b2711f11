using System.Diagnostics;
using System.Globalization;
using Coffer.Audit;
using Coffer.Storage;

/// <summary>
/// Large audit logs for the benches, filled through the storage layer (<see cref="IAuditRepository.AppendAsync(IReadOnlyList{AuditRecord}, AuditCheckpoint?, CancellationToken)"/>)
/// in commits of <c>batch</c> records, as the audit writer makes them under load. Shared by the audit store
/// benches and the console's (bench/Coffer.Bench.Console links this file).
/// </summary>
internal static class AuditFill
{
    /// <summary>Appends <paramref name="count"/> XKS records after <paramref name="head"/> and returns the new head.</summary>
    /// <param name="timeAfter">The time of a commit, given the sequence number before it.</param>
    /// <param name="checkpointKey">Each commit's checkpoint is MACed with this key; null: no checkpoints, as for
    /// records written while sealed (the next writer's checkpoint adopts them).</param>
    /// <param name="appended">Sees each commit's records.</param>
    public static async Task<AuditHead> AppendAsync(
        IAuditRepository audit, AuditHead head, long count, int batch, Func<long, DateTimeOffset> timeAfter, byte[]? checkpointKey,
        Action<IReadOnlyList<AuditRecord>>? appended = null)
    {
        var records = new List<AuditRecord>(batch);
        var end = head.Sequence + count;
        var report = Stopwatch.StartNew();
        while (head.Sequence < end)
        {
            records.Clear();
            var previous = head.Hash;
            var time = timeAfter(head.Sequence);
            for (var i = 1; i <= batch && head.Sequence + i <= end; i++)
            {
                var record = AuditRecord.Create(BenchEvents.Xks(head.Sequence + i), head.Sequence + i, time, "node-1", previous);
                records.Add(record);
                previous = record.Hash;
            }

            appended?.Invoke(records);
            await audit.AppendAsync(records, checkpointKey is null ? null : AuditCheckpointMac.Create(checkpointKey, records[^1].Sequence, previous, time));
            head = new AuditHead(records[^1].Sequence, previous);
            if (report.Elapsed > TimeSpan.FromSeconds(30))
            {
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"filled {head.Sequence:N0} of {end:N0}"));
                report.Restart();
            }
        }

        return head;
    }
}

internal static class BenchEvents
{
    // An encrypt record as the XKS handler writes one: every requestMetadata field, fresh ids each time;
    // one in 50 from a region outside the EEA.
    public static AuditEvent Xks(long n) => new AuditEvent
    {
        Action = AuditActions.XksEncrypt,
        Outcome = AuditOutcome.Ok,
        ActorKind = AuditActorKinds.Xks,
        ActorId = "AKIA4GBY3I6JCE5M2HPM",
        KeyStore = "ks-0b9c5d2e7f1a",
        KeyId = "key-" + (n % 4).ToString(CultureInfo.InvariantCulture),
        KeyVersion = 1,
        Details = "externalKeyId=demo-key-" + (n % 4).ToString(CultureInfo.InvariantCulture),
        LatencyMs = 0.05 + n % 7 / 100.0,
        SourceIp = "10.20.30.40",
        KmsRequestId = Guid.NewGuid().ToString(),
        AwsPrincipalArn = "arn:aws:iam::123456789012:role/ebs-encryption",
        KmsOperation = "Encrypt",
        KmsViaService = "ebs",
        AwsSourceVpc = "vpc-0a1b2c3d4e5f60718",
        AwsSourceVpce = "vpce-0a1b2c3d4e5f60718",
    }.WithKmsKeyArn($"arn:aws:kms:{(n % 50 == 0 ? "us-east-1" : "eu-central-1")}:123456789012:key/" + Guid.NewGuid());
}
