using System.Security.Cryptography;
using System.Text;
using Coffer.Approvals;
using Coffer.Audit;
using Coffer.Auth;
using Coffer.Crypto;
using Coffer.KeyStores;
using Coffer.Server.Approvals;
using Coffer.Server.KeyStores;
using Coffer.Server.Seal;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>
/// /api/v1/keystores/{id}/credentials: the SigV4 credentials AWS KMS signs with. The secret is shown
/// once when created and otherwise only in the AWS console file an administrator asks for; at rest
/// it is sealed under the master key.
/// </summary>
internal static class CredentialEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/keystores/{id}/credentials").WithTags("Key store credentials");
        group.MapGet("", ListAsync).RequirePermission(Permissions.CredentialsRead).WithSummary("List credentials, without secrets");
        group.MapPost("", AddAsync).RequirePermission(Permissions.CredentialsWrite).RequiresQuorum(QuorumOperations.CredentialAdd).WithAuditAction(AuditActions.CredentialAdd).WithSummary("Add a credential; the answer holds the secret, shown once");
        group.MapDelete("/{credentialId}", RevokeAsync).RequirePermission(Permissions.CredentialsWrite).RequiresQuorum(QuorumOperations.CredentialRevoke).WithAuditAction(AuditActions.CredentialRevoke).WithSummary("Revoke a credential at once");
        group.MapGet("/{credentialId}/aws-config", AwsConfigAsync).RequirePermission(Permissions.CredentialsWrite)
            .WithSummary("The JSON file the AWS KMS console imports for this key store and credential");
    }

    private static async Task<Results<Ok<List<CredentialView>>, ProblemHttpResult>> ListAsync(string id, ICofferStorage storage, CancellationToken ct)
    {
        if (await storage.KeyStores.GetKeyStoreAsync(id, ct) is null)
        {
            return KeyStoreEndpoints.NotFound(id);
        }

        var credentials = await storage.KeyStores.ListCredentialsAsync(id, ct);
        return TypedResults.Ok(credentials.Select(View).ToList());
    }

    private static async Task<Results<Created<CreatedCredential>, ProblemHttpResult>> AddAsync(string id, KeyStoreService keyStores, CancellationToken ct) =>
        Added(await keyStores.AddCredentialAsync(id, ct));

    /// <summary>The answer to an added credential, the one time its secret is shown.</summary>
    public static Created<CreatedCredential> Added((Credential Credential, string Secret) added) =>
        TypedResults.Created($"/api/v1/keystores/{added.Credential.KeyStoreId}/credentials/{added.Credential.Id}",
            new CreatedCredential(added.Credential.Id, added.Credential.KeyStoreId, added.Credential.AccessKeyId, added.Secret, added.Credential.CreatedAt));

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(string id, string credentialId, KeyStoreService keyStores, CancellationToken ct)
    {
        await keyStores.RevokeCredentialAsync(id, credentialId, ct);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<AwsConsoleConfig>, ProblemHttpResult>> AwsConfigAsync(string id, string credentialId, SealManager seal, CancellationToken ct)
    {
        var store = await seal.Storage.KeyStores.GetKeyStoreAsync(id, ct);
        var credential = (await seal.Storage.KeyStores.ListCredentialsAsync(id, ct)).FirstOrDefault(c => c.Id == credentialId && c.IsLive);
        if (store is null || credential is null)
        {
            return NotFound(id, credentialId);
        }

        var secret = await seal.OpenSecretAsync(SealPurpose.SigV4Secret, credential.AccessKeyId, credential.SealedSecret, ct);
        try
        {
            return TypedResults.Ok(new AwsConsoleConfig(store.Prefix.XksProxyUriPath,
                new AwsConsoleCredential(credential.AccessKeyId, Encoding.UTF8.GetString(secret))));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    private static ProblemHttpResult NotFound(string id, string credentialId) =>
        Problems.NotFound(KeyStoreService.CredentialNotFound(id, credentialId).Message);

    private static CredentialView View(Credential c) =>
        new(c.Id, c.KeyStoreId, c.AccessKeyId, c.CreatedAt, c.RevokedAt, c.IsLive ? "live" : "revoked");
}
