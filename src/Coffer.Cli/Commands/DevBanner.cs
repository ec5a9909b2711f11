using Coffer.Server.Hosting;

namespace Coffer.Cli.Commands;

/// <summary>What <c>coffer dev</c> prints: where everything is and a curl call that works when pasted.</summary>
internal static class DevBanner
{
    public static void Print(DevInfo info, CofferOptions options)
    {
        var tls = options.Xks.Tls;
        var curlTls = !tls.Enabled ? string.Empty
            : $" --cacert '{tls.CertificatePath}'" + (tls.ClientCaPath is null ? string.Empty : " --cert client.crt --key client.key");
        var body = "{\"requestMetadata\":{\"awsPrincipalArn\":\"arn:aws:iam::111122223333:user/alice\","
            + "\"kmsKeyArn\":\"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\","
            + "\"kmsOperation\":\"Encrypt\",\"kmsRequestId\":\"4112f4d6-db54-4af4-ae30-c55a22a8dfae\"},"
            + "\"plaintext\":\"SGVsbG8gQ29mZmVyIQ==\",\"encryptionAlgorithm\":\"AES_GCM\"}";
        var nodes = info.Nodes is null ? string.Empty : "\n\n  Nodes (one PostgreSQL in " + Path.Combine(options.DataDirectory, DevCluster.PostgresDirectory) + "):"
            + string.Concat(info.Nodes.Select(n => $"\n    {n.NodeId,-24} XKS {n.XksBaseUrl}   management {n.AdminUrl}"));
        Console.Out.Write($"""

            Coffer dev is running (dev seal: the master key is a file in {options.DataDirectory}; never use it for real keys).

              XKS base URL      {info.XksBaseUrl}
              URI path          {info.UriPrefix}/kms/xks/v1
              Access key id     {info.AccessKeyId}
              Secret access key {info.SecretAccessKey}
              Demo key          {info.KeyId} ({(info.Backend == "pkcs11" ? "inside the SoftHSM2 token in " + Path.Combine(options.DataDirectory, "softhsm") : "software, sealed under the dev master key")})
              Management API    {info.AdminUrl}/api/v1   (OpenAPI: {info.AdminUrl}/api/v1/openapi.json)
              Web console       {info.AdminUrl}/console/   (log in with the admin token)
              Admin token       {info.AdminToken}
              All of this       {Path.Combine(options.DataDirectory, DevEnvironment.FileName)}{nodes}

            Encrypt "Hello Coffer!" with the demo key{(info.Nodes is null ? "" : " (node 1; any node's XKS base URL works)")}:

              curl -sS --aws-sigv4 "aws:amz:eu-west-1:kms-xks-proxy" --user '{info.AccessKeyId}:{info.SecretAccessKey}'{curlTls} -H 'Content-Type: application/json' -d '{body}' {info.XksBaseUrl}/keys/{info.KeyId}/encrypt

            The CLI finds this server by itself from this directory: try `./coffer key list`. Ctrl+C stops it.

            """);
        Console.Out.Flush();
    }
}
