using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Coffer.Bench;

/// <summary>DEVELOPMENT ONLY, never reported as Coffer: a tiny XKS-shaped endpoint used to develop the
/// bench before `coffer dev` existed. Does AES-GCM but does NOT verify SigV4. Writes dev.json like
/// `coffer dev` does so the rest of the bench runs unchanged.</summary>
public static class FakeXks
{
    public static async Task<int> RunAsync(int port, string dataDir, int parentPid)
    {
        var key = RandomNumberGenerator.GetBytes(32);
        const string prefix = "/fake/kms/xks/v1";
        var builder = CeilingServer.NewBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();

        app.MapPost(prefix + "/health", () => Results.Text(
            "{\"xksProxyFleetSize\":1,\"xksProxyVendor\":\"fake\",\"xksProxyModel\":\"fake\",\"ekmVendor\":\"fake\",\"ekmFleetDetails\":[{\"id\":\"f\",\"model\":\"f\",\"healthStatus\":\"ACTIVE\"}]}",
            "application/json"));
        app.MapPost(prefix + "/keys/{id}/encrypt", async (HttpContext ctx) =>
        {
            var req = (await JsonNode.ParseAsync(ctx.Request.Body))!;
            var pt = Convert.FromBase64String((string)req["plaintext"]!);
            var aad = req["additionalAuthenticatedData"] is { } a ? Convert.FromBase64String((string)a!) : [];
            var iv = RandomNumberGenerator.GetBytes(12);
            var ct = new byte[pt.Length];
            var tag = new byte[16];
            using (var gcm = new AesGcm(key, 16)) gcm.Encrypt(iv, pt, ct, tag, aad);
            return Results.Json(new JsonObject
            {
                ["ciphertext"] = Convert.ToBase64String(ct),
                ["initializationVector"] = Convert.ToBase64String(iv),
                ["authenticationTag"] = Convert.ToBase64String(tag),
            });
        });
        app.MapPost(prefix + "/keys/{id}/decrypt", async (HttpContext ctx) =>
        {
            var req = (await JsonNode.ParseAsync(ctx.Request.Body))!;
            byte[] B(string n) => req[n] is { } v ? Convert.FromBase64String((string)v!) : [];
            var ct = B("ciphertext");
            var pt = new byte[ct.Length];
            try
            {
                using var gcm = new AesGcm(key, 16);
                gcm.Decrypt(B("initializationVector"), ct, B("authenticationTag"), pt, B("additionalAuthenticatedData"));
            }
            catch (CryptographicException)
            {
                return Results.Json(new JsonObject { ["errorName"] = "InvalidCiphertextException", ["errorMessage"] = "bad" }, statusCode: 400);
            }
            return Results.Json(new JsonObject { ["plaintext"] = Convert.ToBase64String(pt) });
        });

        ParentWatch.ExitWhenGone(parentPid, app.Lifetime);
        await app.StartAsync();
        var dev = new JsonObject
        {
            ["xksBaseUrl"] = $"http://127.0.0.1:{port}{prefix}",
            ["uriPrefix"] = "fake",
            ["accessKeyId"] = "BENCHFAKEAKIDAAAAAAAA",
            ["secretAccessKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["keyId"] = "fake-key",
        };
        await File.WriteAllTextAsync(Path.Combine(dataDir, "dev.json"), dev.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        await app.WaitForShutdownAsync();
        return 0;
    }
}
