using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Coffer.Server.Hosting;
using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary>`coffer dev --pkcs11` as a user runs it: a throw-away SoftHSM2 token under the data
/// directory holds the demo key, and the printed facts (dev.json) work.</summary>
public sealed class DevPkcs11ProcessTests
{
    [Fact]
    public async Task Dev_with_pkcs11_keeps_the_demo_key_in_a_softhsm_token_that_encrypts_and_decrypts()
    {
        var data = Directory.CreateTempSubdirectory("coffer-dev-pkcs11-").FullName;
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "coffer.dll"), "dev", "--pkcs11", "--data", data, "--xks-port", "0", "--admin-port", "0" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        try
        {
            var info = await WaitForDevJsonAsync(Path.Combine(data, DevEnvironment.FileName), process, stderr);
            Assert.Equal("pkcs11", info.Backend);
            Assert.Single(Directory.GetDirectories(Path.Combine(data, "softhsm", "tokens")));

            var xks = new XksClient(new Uri(info.XksBaseUrl), info.AccessKeyId, info.SecretAccessKey);
            var plaintext = "demo data key held by SoftHSM2.."u8.ToArray();
            var decrypted = await xks.DecryptAsync(info.KeyId, await xks.MustEncryptAsync(info.KeyId, plaintext));
            Assert.Equal(plaintext, decrypted.Json.GetProperty("plaintext").GetBytesFromBase64());

            using var admin = new HttpClient { BaseAddress = new Uri(info.AdminUrl) };
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", info.AdminToken);
            var keys = JsonNode.Parse(await admin.GetStringAsync("/api/v1/keys"))!["keys"]!.AsArray();
            var key = JsonNode.Parse(await admin.GetStringAsync($"/api/v1/keys/{(string)keys[0]!["id"]!}"))!;
            Assert.Equal("pkcs11", (string?)key["versions"]![0]!["backend"]);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<DevInfo> WaitForDevJsonAsync(string path, Process process, Task<string> stderr)
    {
        for (var waited = 0; waited < 120; waited++)
        {
            if (process.HasExited)
            {
                Assert.Fail($"coffer dev --pkcs11 exited with {process.ExitCode}: {await stderr}");
            }

            if (await DevEnvironment.ReadAsyncOrNull(path) is { } info)
            {
                return info;
            }

            await Task.Delay(500);
        }

        Assert.Fail("coffer dev --pkcs11 wrote no dev.json within 60 s.");
        return null!;
    }
}
