using Coffer.Crypto;
using Coffer.Keys;
using Coffer.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Coffer.Hsm.Tests;

/// <summary>Reinitialising the module (recovery) disturbs every token of the process, so these run
/// alone, after the parallel tests.</summary>
[CollectionDefinition(nameof(OutageCollection), DisableParallelization = true)]
public sealed class OutageCollection;

[Collection(nameof(OutageCollection))]
public sealed class Pkcs11OutageTests : IDisposable
{
    private readonly SoftHsmToken _token = SoftHsmToken.Create();

    public void Dispose() => _token.Dispose();

    private static (byte[] Iv, byte[] Ciphertext, byte[] Tag) Encrypt(IAeadKey key, byte[] plaintext)
    {
        var iv = new byte[12];
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[16];
        key.Encrypt(plaintext, [1], iv, ciphertext, tag);
        return (iv, ciphertext, tag);
    }

    [Fact]
    public void A_vanished_token_is_unavailable_and_comes_back_without_a_new_backend()
    {
        var time = new FakeTimeProvider();
        using var backend = new Pkcs11CryptoBackend(SharedSoftHsm.Options(_token), time);
        var stored = backend.CreateKeyMaterial("key_outage", 1, KeyUsage.EncryptDecrypt);
        using var key = backend.OpenKey("key_outage", 1, stored);
        using var health = backend.CreateHealthCheckKey();
        var before = Encrypt(key, [1, 2, 3]);
        Encrypt(health, [4]);

        _token.TakeAway();
        try
        {
            // SoftHSM2 answers C_EncryptInit with CKR_OBJECT_HANDLE_INVALID and C_GetTokenInfo with
            // CKR_GENERAL_ERROR once its token directory is gone.
            var error = Assert.Throws<CryptoBackendUnavailableException>(() => Encrypt(key, [1]));
            Assert.Contains("CKR_", error.Message, StringComparison.Ordinal);
            Assert.Throws<CryptoBackendUnavailableException>(() => Encrypt(health, [4]));
            // The reconnect attempt finds no token and backs off; calls fail fast meanwhile.
            var waiting = Assert.Throws<CryptoBackendUnavailableException>(() => Encrypt(key, [1]));
            Assert.Contains("next reconnect attempt", waiting.Message, StringComparison.Ordinal);
        }
        finally
        {
            _token.Restore();
        }

        time.Advance(TimeSpan.FromSeconds(10));
        var after = Encrypt(key, [5, 6]);
        var plaintext = new byte[3];
        Assert.True(key.TryDecrypt(before.Iv, before.Ciphertext, before.Tag, [1], plaintext));
        Assert.Equal([1, 2, 3], plaintext);
        var plaintext2 = new byte[2];
        Assert.True(key.TryDecrypt(after.Iv, after.Ciphertext, after.Tag, [1], plaintext2));
        Encrypt(health, [4]);
    }

    [Fact]
    public void A_call_on_handles_older_than_a_reinitialisation_does_not_run()
    {
        using var backend = new Pkcs11CryptoBackend(SharedSoftHsm.Options(_token));
        backend.Connect();
        var module = Pkcs11Module.Acquire(SoftHsmToken.ModulePath);
        try
        {
            var old = module.Generation;
            module.Reinitialize(old, TimeSpan.FromSeconds(5));
            var ran = false;

            Assert.Throws<StaleHandlesException>(() => module.Call(old, () => ran = true));

            Assert.False(ran);
            Assert.True(module.Call(module.Generation, () => ran = true));
        }
        finally
        {
            module.Release();
        }
    }

    [Fact]
    public async Task Calls_while_the_module_is_reinitialised_again_and_again_never_meet_a_disposed_library()
    {
        using var backend = new Pkcs11CryptoBackend(SharedSoftHsm.Options(_token));
        var stored = backend.CreateKeyMaterial("key_reinit", 1, KeyUsage.EncryptDecrypt);
        using var key = backend.OpenKey("key_reinit", 1, stored);
        var module = Pkcs11Module.Acquire(SoftHsmToken.ModulePath);
        var done = 0;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        using var stop = new CancellationTokenSource();
        var callers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    Encrypt(key, [1, 2, 3]);
                    // Each pass also rents a session and finds the slot (the module generation moved).
                    backend.DestroyKeyMaterial("key_absent", 1, backend.CreateKeyMaterial("key_absent", 1, KeyUsage.EncryptDecrypt));
                }
#pragma warning disable CA1031 // every failure is the finding
                catch (Exception e)
#pragma warning restore CA1031
                {
                    failures.Enqueue(e);
                }

                Interlocked.Increment(ref done);
            }
        })).ToList();
        try
        {
            // Each reinitialisation waits for a call to finish since the last, so calls keep going
            // and some fall between renting a session and using it.
            for (var i = 0; i < 100; i++)
            {
                var seen = Volatile.Read(ref done);
                Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref done) > seen, TimeSpan.FromSeconds(30)), "the calls stopped");
                module.Reinitialize(module.Generation, TimeSpan.FromSeconds(5));
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(callers);
            module.Release();
        }

        // A call that met handles of an earlier generation used to fail on the disposed library
        // (ObjectDisposedException). Now each such call runs again, and any failure left is the backend's
        // own retryable answer: under a loaded machine SoftHSM2 itself now and then answers a call right
        // after a reinitialisation with CKR_GENERAL_ERROR, which Coffer reports as the HSM unavailable.
        Assert.All(failures, e => Assert.IsType<CryptoBackendUnavailableException>(e));
        Assert.DoesNotContain(failures, e => e.InnerException is ObjectDisposedException);
        Assert.True(failures.Count < Volatile.Read(ref done) / 2, $"{failures.Count} of {done} passes failed");
    }

    [Fact]
    public void A_wrong_pin_is_reported_and_not_retried()
    {
        var pinFile = Path.GetTempFileName();
        File.WriteAllText(pinFile, "wrong-pin");
        File.SetUnixFileMode(pinFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        try
        {
            var options = SharedSoftHsm.Options(_token);
            options.PinFile = pinFile;
            using var backend = new Pkcs11CryptoBackend(options);

            var first = Assert.Throws<CryptoBackendUnavailableException>(backend.Connect);
            var second = Assert.Throws<CryptoBackendUnavailableException>(backend.Connect);

            Assert.Contains("CKR_PIN_INCORRECT", first.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("wrong-pin", first.Message, StringComparison.Ordinal);
            Assert.Equal(first.Message, second.Message);
        }
        finally
        {
            File.Delete(pinFile);
        }
    }
}
