using Coffer.Audit;
using Coffer.Policies;
using Coffer.Server.Policies;
using Coffer.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Coffer.Server.Management;

/// <summary>
/// POST /api/v1/policy/simulate: the decisions the XKS path would make, without an XKS call; with a
/// candidate document, also the stored rules' decisions and which differ. Replayed audit records
/// carry no SigV4 region (it is not recorded), so signingRegion matchers do not match them.
/// </summary>
internal static class PolicySimulation
{
    public const int MaxReplay = 1000;
    public const int MaxRequests = 1000;

    public static async Task<Results<Ok<SimulateResponse>, ProblemHttpResult>> SimulateAsync(
        SimulateRequest request, AccessRules rules, ICofferStorage storage, TimeProvider time, CancellationToken ct)
    {
        var keyStoreId = request.KeyStoreId;
        if (request.KeyId is not null)
        {
            var key = await storage.Keys.GetKeyAsync(request.KeyId, ct);
            if (key is null)
            {
                return KeyEndpoints.NotFound(request.KeyId);
            }

            if (keyStoreId is not null && keyStoreId != key.KeyStoreId)
            {
                return Problems.BadRequest($"keyStoreId: key '{key.Id}' is in key store '{key.KeyStoreId}', not '{keyStoreId}'.");
            }

            keyStoreId = key.KeyStoreId;
        }
        else if (keyStoreId is null)
        {
            return Problems.BadRequest("keyStoreId or keyId is required: the rules of which key store (and key) to try.");
        }
        else if (await PolicyEndpoints.MissingAsync(PolicyScopes.KeyStore, keyStoreId, storage, ct) is { } missing)
        {
            return missing;
        }

        if (request.Requests is null or { Count: 0 } && request.Replay is null)
        {
            return Problems.BadRequest("requests (sample calls) or replay (the last N XKS calls from the audit log) is required.");
        }

        if (request.Requests is { Count: > MaxRequests } || request.Replay is < 1 or > MaxReplay)
        {
            return Problems.BadRequest($"requests holds at most {MaxRequests} samples; replay is 1 to {MaxReplay}.");
        }

        var storedStoreRules = rules.For(PolicyScopes.KeyStore, keyStoreId);
        var storedKeyRules = request.KeyId is null ? AccessRuleSet.Empty : rules.For(PolicyScopes.Key, request.KeyId);
        var (storeRules, keyRules) = (storedStoreRules, storedKeyRules);
        if (request.Document is { } candidate)
        {
            var error = AccessPolicyDocuments.TryRead(candidate.GetRawText(), out var document);
            if (error is null)
            {
                _ = AccessPolicyCompiler.TryCompile(document!, rules.RegionSet, out var compiled, out error);
                (storeRules, keyRules) = request.KeyId is null ? (compiled, keyRules) : (storeRules, compiled);
            }

            if (error is not null)
            {
                return PolicyEndpoints.Refused(error with { Field = "document." + error.Field.TrimStart('$', '.') });
            }
        }

        // With a candidate, each call is also decided under the stored rules, to show what would change.
        var comparing = request.Document is not null;
        var now = request.At ?? time.GetUtcNow();
        var results = new List<SimulationResult>();
        for (var i = 0; i < (request.Requests?.Count ?? 0); i++)
        {
            var sample = request.Requests![i];
            if (!TryOperation(sample.Operation, out var operation))
            {
                return Problems.BadRequest($"requests[{i}].operation is encrypt, decrypt or metadata.");
            }

            var ip = sample.SourceIp is null ? null : AccessPolicy.ParseAddress(sample.SourceIp);
            if (sample.SourceIp is not null && ip is null)
            {
                return Problems.BadRequest($"requests[{i}].sourceIp is not an IP address.");
            }

            var metadata = sample.RequestMetadata ?? new SimulatedMetadata();
            var call = new AccessRequest
            {
                Operation = operation,
                KmsOperation = metadata.KmsOperation,
                AwsPrincipalArn = metadata.AwsPrincipalArn,
                KmsKeyArn = metadata.KmsKeyArn,
                SigningRegion = sample.SigningRegion,
                KmsViaService = metadata.KmsViaService,
                AwsSourceVpc = metadata.AwsSourceVpc,
                AwsSourceVpce = metadata.AwsSourceVpce,
                SourceIp = ip,
                Now = now,
            };
            var decision = AccessPolicy.Decide(storeRules, keyRules, call);
            AccessDecision? stored = comparing ? AccessPolicy.Decide(storedStoreRules, storedKeyRules, call) : null;
            results.Add(Result(sample.Operation!, metadata.KmsRequestId, metadata.AwsPrincipalArn, metadata.KmsKeyArn, sample.SourceIp, decision, stored, null));
        }

        if (request.Replay is { } replay)
        {
            foreach (var record in await RecentCallsAsync(storage, keyStoreId, request.KeyId, replay, ct))
            {
                var e = record.Event;
                var operation = e.Action switch
                {
                    AuditActions.XksEncrypt => AccessOperation.Encrypt,
                    AuditActions.XksDecrypt => AccessOperation.Decrypt,
                    _ => AccessOperation.Metadata,
                };
                var recordKeyRules = e.KeyId is null ? AccessRuleSet.Empty : request.KeyId is null ? rules.For(PolicyScopes.Key, e.KeyId) : null;
                var call = new AccessRequest
                {
                    Operation = operation,
                    KmsOperation = e.KmsOperation,
                    AwsPrincipalArn = e.AwsPrincipalArn,
                    KmsKeyArn = e.KmsKeyArn,
                    KmsViaService = e.KmsViaService,
                    AwsSourceVpc = e.AwsSourceVpc,
                    AwsSourceVpce = e.AwsSourceVpce,
                    SourceIp = AccessPolicy.ParseAddress(e.SourceIp),
                    Now = now,
                };
                var decision = AccessPolicy.Decide(storeRules, recordKeyRules ?? keyRules, call);
                AccessDecision? stored = comparing ? AccessPolicy.Decide(storedStoreRules, recordKeyRules ?? storedKeyRules, call) : null;
                results.Add(Result(operation.ToString().ToLowerInvariant(), e.KmsRequestId, e.AwsPrincipalArn, e.KmsKeyArn, e.SourceIp, decision, stored, record.Sequence));
            }
        }

        return TypedResults.Ok(new SimulateResponse(storeRules.Rules.Count + keyRules.Rules.Count, results,
            comparing ? results.Count(r => r.Differs == true) : null));
    }

    private static SimulationResult Result(
        string operation, string? requestId, string? principal, string? keyArn, string? ip, AccessDecision decision, AccessDecision? stored, long? sequence) =>
        new(operation, requestId, principal, keyArn, ip, Text(decision), decision.Rule?.Name, decision.Reason, sequence,
            stored is { } s ? Text(s) : null, stored is { } d ? d.Allowed != decision.Allowed : null);

    private static string Text(AccessDecision decision) => decision.Allowed ? "allow" : "deny";

    private static bool TryOperation(string? text, out AccessOperation operation)
    {
        operation = text switch
        {
            "encrypt" => AccessOperation.Encrypt,
            "decrypt" => AccessOperation.Decrypt,
            "metadata" => AccessOperation.Metadata,
            _ => 0,
        };
        return operation != 0;
    }

    /// <summary>The last <paramref name="count"/> encrypt, decrypt and metadata calls of a key store
    /// (or key), newest first; health and management records are skipped.</summary>
    private static async Task<List<AuditRecord>> RecentCallsAsync(ICofferStorage storage, string keyStoreId, string? keyId, int count, CancellationToken ct)
    {
        var calls = new List<AuditRecord>(count);
        long? before = null;
        for (var page = 0; page < 20 && calls.Count < count; page++)
        {
            var found = await storage.Audit.QueryAsync(new AuditQuery { KeyStore = keyStoreId, KeyId = keyId, Before = before, Limit = 500 }, ct);
            calls.AddRange(found.Records
                .Where(r => r.Event.Action is AuditActions.XksEncrypt or AuditActions.XksDecrypt or AuditActions.XksMetadata)
                .Take(count - calls.Count));
            if (found.Next is null)
            {
                break;
            }

            before = found.Next;
        }

        return calls;
    }
}
