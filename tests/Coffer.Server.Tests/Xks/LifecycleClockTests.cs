using System.Net.Http.Json;
using System.Security.Cryptography;
using Coffer.Keys;
using Coffer.Storage.Sqlite;
using Coffer.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>
/// The key lifecycle across restarts and by the clock alone ("expiry switches encrypt off at
/// the right instant"). Time is a <see cref="FakeTimeProvider"/> shared by the node and the signer;
/// activation and expiry times are written straight into the node's database (no API sets them in
/// this slice), then a restart loads them into the key ring.
/// </summary>
public abstract class LifecycleClockTests(string backend)
{
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 8, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);

    private XksClient Client(DevServer node) => XksClient.For(node) with { SigningTime = _time.GetUtcNow() };

    /// <summary>A fresh key in the demo key store and the node restarted after <paramref name="change"/>
    /// rewrote version 1's lifecycle in the database.</summary>
    private async Task<(DevServer Node, string Name)> NodeWithVersion1Async(Func<DateTimeOffset, VersionLifecycle> change)
    {
        var node = await DevServer.StartAsync(time: _time, backend: backend);
        try
        {
            var name = Admin.Unique("clock");
            var id = await node.CreateKeyAsync(await node.KeyStoreIdAsync(node.Info.UriPrefix), name, "ENCRYPT", "DECRYPT");
            using (var storage = await SqliteStorage.OpenAsync(Path.Combine(node.DataDirectory, "coffer.db")))
            {
                Assert.True(await storage.Keys.UpdateVersionLifecycleAsync(id, 1, new VersionLifecycle(KeyVersionState.Active), change(Start), Start, KeyVersion.SystemActor));
            }

            return (await node.RestartAsync(), name);
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task An_expiry_time_stops_encryption_at_its_instant_and_decryption_goes_on()
    {
        var (node, name) = await NodeWithVersion1Async(start => new VersionLifecycle(KeyVersionState.Active, DeactivatesAt: start.AddHours(1)));
        await using var _ = node;
        var data = RandomNumberGenerator.GetBytes(32);

        _time.Advance(TimeSpan.FromHours(1) - TimeSpan.FromSeconds(1));
        var sealedData = await Client(node).MustEncryptAsync(name, data);
        _time.Advance(TimeSpan.FromSeconds(1));

        XksAssert.Error(await Client(node).EncryptAsync(name, data), 400, "InvalidStateException");
        Assert.Equal(data, (await Client(node).DecryptAsync(name, sealedData)).Bytes("plaintext"));
        Assert.Equal("ENABLED", XksAssert.Ok(await Client(node).GetKeyMetadataAsync(name)).GetProperty("keyStatus").GetString());
    }

    [Fact]
    public async Task A_PreActive_version_starts_encrypting_at_its_activation_instant()
    {
        var (node, name) = await NodeWithVersion1Async(start => new VersionLifecycle(KeyVersionState.PreActive, ActivatesAt: start.AddMinutes(30)));
        await using var _ = node;
        var data = RandomNumberGenerator.GetBytes(32);

        _time.Advance(TimeSpan.FromMinutes(30) - TimeSpan.FromSeconds(1));
        XksAssert.Error(await Client(node).EncryptAsync(name, data), 400, "InvalidStateException");
        _time.Advance(TimeSpan.FromSeconds(1));

        var sealedData = await Client(node).MustEncryptAsync(name, data);
        Assert.Equal(data, (await Client(node).DecryptAsync(name, sealedData)).Bytes("plaintext"));
    }

    [Fact]
    public async Task Ciphertext_of_a_destroyed_version_is_InvalidCiphertext_and_the_current_version_is_unaffected()
    {
        var node = await DevServer.StartAsync(time: _time, backend: backend);
        try
        {
            var name = Admin.Unique("gone");
            var id = await node.CreateKeyAsync(await node.KeyStoreIdAsync(node.Info.UriPrefix), name, "ENCRYPT", "DECRYPT");
            var v1 = await Client(node).MustEncryptAsync(name, [1]);
            (await node.Admin.PostAsync($"/api/v1/keys/{id}/rotate", null)).EnsureSuccessStatusCode();
            // What the destruction scheduler of a later slice will write when a waiting period ends.
            using (var storage = await SqliteStorage.OpenAsync(Path.Combine(node.DataDirectory, "coffer.db")))
            {
                Assert.True(await storage.Keys.UpdateVersionLifecycleAsync(id, 1, new VersionLifecycle(KeyVersionState.Deactivated),
                    new VersionLifecycle(KeyVersionState.Destroyed), Start, KeyVersion.SystemActor));
            }

            node = await node.RestartAsync();

            XksAssert.Error(await Client(node).DecryptAsync(name, v1), 400, "InvalidCiphertextException");
            var v2 = await Client(node).MustEncryptAsync(name, [2]);
            Assert.Equal([0x01, 0, 0, 0, 2], v2.CiphertextMetadata);
            Assert.Equal([2], (await Client(node).DecryptAsync(name, v2)).Bytes("plaintext"));
        }
        finally
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task Rotation_compromise_and_scheduled_destruction_survive_a_restart()
    {
        var node = await DevServer.StartAsync(time: _time, backend: backend);
        try
        {
            var name = Admin.Unique("kept");
            var id = await node.CreateKeyAsync(await node.KeyStoreIdAsync(node.Info.UriPrefix), name, "ENCRYPT", "DECRYPT");
            var v1 = await Client(node).MustEncryptAsync(name, [1]);
            (await node.Admin.PostAsync($"/api/v1/keys/{id}/versions/1/compromise", null)).EnsureSuccessStatusCode();
            var v2 = await Client(node).MustEncryptAsync(name, [2]);
            (await node.Admin.PostAsync($"/api/v1/keys/{id}/rotate", null)).EnsureSuccessStatusCode();
            (await node.Admin.PostAsJsonAsync($"/api/v1/keys/{id}/versions/2/schedule-destruction", new { waitingPeriodDays = 7 })).EnsureSuccessStatusCode();

            node = await node.RestartAsync();

            XksAssert.Error(await Client(node).DecryptAsync(name, v1), 400, "InvalidCiphertextException");
            XksAssert.Error(await Client(node).DecryptAsync(name, v2), 400, "InvalidCiphertextException");
            Assert.Equal([0x01, 0, 0, 0, 3], (await Client(node).MustEncryptAsync(name, [3])).CiphertextMetadata);
            (await node.Admin.PostAsync($"/api/v1/keys/{id}/versions/2/cancel-destruction", null)).EnsureSuccessStatusCode();
            Assert.Equal([2], (await Client(node).DecryptAsync(name, v2)).Bytes("plaintext"));
        }
        finally
        {
            await node.DisposeAsync();
        }
    }
}
