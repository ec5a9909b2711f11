using System.ComponentModel.DataAnnotations;
using Coffer.Auth;
using Coffer.Audit;
using Coffer.Policies;
using Coffer.Server.Audit;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>/api/v1/audit: verify the chain (server-side: only the unsealed server holds the checkpoint
/// key) and list records.</summary>
internal static class AuditEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/audit").WithTags("Audit").RequirePermission(Permissions.AuditRead);
        group.MapGet("/verify", VerifyAsync)
            .WithSummary("Walk the audit chain from the last verify's checkpoint (full=true: from the start) and report the first broken, missing, reordered, rebuilt or unproven record, or ok; with Accept: application/x-ndjson, progress lines first")
            .Produces<AuditVerifyView>(StatusCodes.Status200OK, "application/json")
            .Produces<AuditVerifyLine>(StatusCodes.Status200OK, AuditVerifyStream.MediaType)
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/records", ListAsync)
            .WithSummary("List audit records, newest first, with filters and keyset paging, from the live log on into the archive files (each proven first); archived records that cannot be proven are named in archived");
        group.MapGet("/report", ReportAsync)
            .WithSummary("Compliance report of a period: per key, calls by region, account, principal and operation (served, refused and failed apart), denials by rule, changes, whether any use came from outside the allowed regions, and archived records read from their verified files or named as left out");
        group.MapGet("/export", Export)
            .WithSummary("Stream audit records oldest first as JSON lines or CEF for a SIEM; resume with after=<last seq>; the filters of /audit/records narrow it");
    }

    private const int ExportPageSize = 1000;

    /// <summary>The regions of allowedRegions: each entry an AWS region or a region set (eea, eu-adequacy,
    /// or one of this database), sets expanded; null when none are given. An entry that is neither is
    /// refused, so a typo cannot pass for a region no call ever comes from.</summary>
    private static async Task<(IReadOnlyList<string>? Regions, ProblemHttpResult? Refusal)> AllowedRegionsAsync(ICofferStorage storage, string? allowedRegions, CancellationToken ct)
    {
        var entries = allowedRegions?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        if (entries.Length == 0)
        {
            return (null, null);
        }

        var sets = await storage.Policies.AllRegionSetsAsync(ct);
        var regions = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (RegionSets.IsRegionName(entry))
            {
                regions.Add(entry);
            }
            else if (sets.TryGetValue(entry, out var members))
            {
                regions.UnionWith(members);
            }
            else
            {
                return (null, Problems.BadRequest($"allowedRegions: '{entry}' is neither an AWS region name (eu-west-1) nor a region set ({string.Join(", ", sets.Keys.Order(StringComparer.Ordinal))})."));
            }
        }

        return ([.. regions], null);
    }

    /// <summary>The compliance report of a period (default: the last 30 days), JSON or Markdown.</summary>
    /// <param name="allowedRegions">Comma-separated AWS regions the keys may be used from; the report
    /// says plainly whether any call came from elsewhere.</param>
    private static async Task<IResult> ReportAsync(
        ICofferStorage storage, AuditLog audit, Hosting.CofferOptions options, TimeProvider time, DateTimeOffset? from, DateTimeOffset? to, string? allowedRegions, string? format, CancellationToken ct)
    {
        format ??= "json";
        if (format is not ("json" or "markdown"))
        {
            return Problems.BadRequest("format is json or markdown.");
        }

        var end = to ?? time.GetUtcNow();
        var start = from ?? end.AddDays(-30);
        if (start >= end)
        {
            return Problems.BadRequest("from must be before to.");
        }

        var (regions, refusal) = await AllowedRegionsAsync(storage, allowedRegions, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        var report = await AuditReports.BuildAsync(storage, audit, options.ResolvedAuditArchiveDirectory, time.GetUtcNow(), start, end, regions, ct);
        return format == "markdown"
            ? TypedResults.Text(AuditReportMarkdown.Render(report), "text/markdown; charset=utf-8")
            : TypedResults.Json(report, ManagementJson.Default.AuditReport);
    }

    /// <param name="format"><c>jsonl</c> (default): one record per line as /audit/records shows it;
    /// <c>cef</c>: ArcSight CEF:0 lines (docs/formats.md, "Audit export").</param>
    /// <param name="after">Only records after this sequence number: what a SIEM already has.</param>
    /// <remarks>The other filters are those of /audit/records (the console downloads what it lists); each
    /// record is tested as the export streams past it, so a filter costs no index and no memory.</remarks>
    private static Results<PushStreamHttpResult, ProblemHttpResult> Export(
        ICofferStorage storage, string? format, long? after, [AsParameters] AuditFilterParameters filters)
    {
        format ??= "jsonl";
        if (format is not ("jsonl" or "cef"))
        {
            return Problems.BadRequest("format is jsonl or cef.");
        }

        if (after is < 0)
        {
            return Problems.BadRequest("after is a record number, 0 or more.");
        }

        var (query, refusal) = filters.ToQuery();
        if (refusal is not null)
        {
            return refusal;
        }

        return TypedResults.Stream(async body =>
        {
            await using var writer = new StreamWriter(body, new System.Text.UTF8Encoding(false), leaveOpen: true) { NewLine = "\n" };
            var next = (after ?? 0) + 1;
            while (true)
            {
                var page = await storage.Audit.ReadChainAsync(next, ExportPageSize);
                foreach (var record in page.Records)
                {
                    if (!query!.Matches(record))
                    {
                        continue;
                    }

                    await writer.WriteLineAsync(format == "cef"
                        ? AuditCef.Format(record, Xks.DeepHealthCheck.Version)
                        : System.Text.Json.JsonSerializer.Serialize(AuditViews.View(record), ManagementJson.Default.AuditRecordView));
                }

                await writer.FlushAsync();
                if (page.IsLast || page.Records.Count == 0)
                {
                    break;
                }

                next = page.Records[^1].Sequence + 1;
            }
        }, format == "cef" ? "text/plain; charset=utf-8" : "application/x-ndjson");
    }

    /// <param name="anchorSequence">With <paramref name="anchorHash"/>: a head kept outside the database
    /// (a previous verify's lastSequence and lastHash); the chain must still hold it. This finds a
    /// rollback of the database that the server's own head, read from that database at start, cannot.</param>
    /// <param name="archives">Also walk the archive files, from record 1 (needed for an anchor in an archived range, which it implies).</param>
    /// <param name="archiveDirectory">Walk the archive files in this directory of the server instead of Audit.ArchiveDirectory (implies archives).</param>
    /// <param name="full">Walk from the start (the last archive's cut) instead of from the verified checkpoint
    /// the last successful verify left: what finds a record changed before that checkpoint.</param>
    private static async Task<IResult> VerifyAsync(
        HttpContext http, AuditLog audit, ICofferStorage storage, Hosting.CofferOptions options, TimeProvider time,
        long? anchorSequence, string? anchorHash, bool? archives, string? archiveDirectory, bool? full, CancellationToken ct)
    {
        if (Coffer.Server.Audit.Retention.AuditArchiveDirectories.Refusal(archiveDirectory) is { } refusal)
        {
            return Problems.BadRequest(refusal);
        }

        AuditHead? anchor = null;
        if (anchorSequence is not null || anchorHash is not null)
        {
            byte[]? hash = null;
            try
            {
                hash = anchorHash is null ? null : Convert.FromHexString(anchorHash);
            }
            catch (FormatException)
            {
            }

            if (anchorSequence is not > 0 || hash is not { Length: AuditRecord.HashSize })
            {
                return Problems.BadRequest("An anchor is anchorSequence (a record number) with anchorHash (its 64 hex digit hash), as a previous verify printed them.");
            }

            anchor = new AuditHead(anchorSequence.Value, hash);
        }

        var cuts = await storage.Audit.ListArchivesAsync(ct);
        var cut = cuts.Count == 0 ? 0 : cuts[^1].ThroughSequence;
        var walkArchives = archives == true || archiveDirectory is not null || anchor?.Sequence <= cut;
        var request = new AuditVerifyRequest
        {
            Anchor = anchor,
            Full = full == true,
            ArchiveDirectory = walkArchives ? archiveDirectory ?? options.ResolvedAuditArchiveDirectory : null,
        };
        if (!AuditVerifyStream.IsAsked(http.Request))
        {
            return TypedResults.Ok(View(await audit.VerifyAsync(request, null, ct)));
        }

        return new AuditVerifyStream(audit, request, time);
    }

    public static AuditVerifyView View(AuditVerification result) => new(
        result.Ok, result.Records, result.LastSequence, result.LastCheckpoint,
        result.Problem is { } p ? AuditViews.KindName(p.Kind) : null, result.Problem?.Sequence, result.Problem?.Message,
        Convert.ToHexStringLower(result.LastHash), result.FirstSequence);

    private static async Task<Results<Ok<AuditRecordListView>, ProblemHttpResult>> ListAsync(
        AuditLog audit, Hosting.CofferOptions options, [AsParameters] AuditFilterParameters filters, long? before, [Range(1, 1000)] int? limit, CancellationToken ct)
    {
        var (query, refusal) = filters.ToQuery();
        if (refusal is not null)
        {
            return refusal;
        }

        var page = await audit.ListAsync(query! with { Before = before, Limit = limit ?? 100 }, options.ResolvedAuditArchiveDirectory, ct);
        return TypedResults.Ok(new AuditRecordListView([.. page.Records.Select(AuditViews.View)], page.Next, page.NotListed));
    }
}

internal static class AuditViews
{
    public static string KindName(AuditProblemKind kind) => kind switch
    {
        AuditProblemKind.Changed => "changed",
        AuditProblemKind.Missing => "missing",
        AuditProblemKind.Reordered => "reordered",
        AuditProblemKind.BadCheckpoint => "bad-checkpoint",
        AuditProblemKind.Rewritten => "rewritten",
        AuditProblemKind.Truncated => "truncated",
        AuditProblemKind.Unproven => "unproven",
        _ => "unknown",
    };

    /// <summary>The record a view shows, exactly as stored (the reverse of <see cref="View(AuditRecord)"/>), for
    /// reading archive files back: the verifier then recomputes its hash from these fields.</summary>
    /// <exception cref="FormatException">An outcome or hash that no record has.</exception>
    public static AuditRecord Record(AuditRecordView v)
    {
        if (!AuditOutcomes.TryParse(v.Outcome, out var outcome))
        {
            throw new FormatException("an unknown outcome");
        }

        var e = new AuditEvent
        {
            Action = v.Action, Outcome = outcome, ErrorName = v.ErrorName, Reason = v.Reason, ActorKind = v.ActorKind, ActorId = v.ActorId,
            KeyStore = v.KeyStore, KeyId = v.KeyId, KeyVersion = v.KeyVersion, LatencyMs = v.LatencyMs, SourceIp = v.SourceIp,
            KmsRequestId = v.KmsRequestId, AwsPrincipalArn = v.AwsPrincipalArn, KmsKeyArn = v.KmsKeyArn, AwsAccount = v.AwsAccount,
            AwsRegion = v.AwsRegion, KmsOperation = v.KmsOperation, KmsViaService = v.KmsViaService, AwsSourceVpc = v.AwsSourceVpc,
            AwsSourceVpce = v.AwsSourceVpce, Details = v.Details,
        };
        return new AuditRecord(e, v.Sequence, v.Time, v.Node, Convert.FromHexString(v.PrevHash), Convert.FromHexString(v.Hash));
    }

    public static AuditArchiveView View(AuditArchive a) => new(
        a.FirstSequence, a.ThroughSequence, Convert.ToHexStringLower(a.ThroughHash), a.FileName, Convert.ToHexStringLower(a.FileSha256), a.CreatedAt);

    public static AuditRecordView View(AuditRecord r)
    {
        var e = r.Event;
        return new AuditRecordView(
            r.Sequence, r.Time, r.Node, e.Action, AuditOutcomes.ToText(e.Outcome), e.ErrorName, e.Reason, e.ActorKind, e.ActorId,
            e.KeyStore, e.KeyId, e.KeyVersion, e.LatencyMs, e.SourceIp, e.KmsRequestId, e.AwsPrincipalArn, e.KmsKeyArn, e.AwsAccount,
            e.AwsRegion, e.KmsOperation, e.KmsViaService, e.AwsSourceVpc, e.AwsSourceVpce, e.Details,
            Convert.ToHexStringLower(r.PrevHash), Convert.ToHexStringLower(r.Hash));
    }
}
