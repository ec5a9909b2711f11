using System.Diagnostics;
using System.Security.Cryptography;
using Coffer.Crypto;
using Coffer.Keys;
using Coffer.Testing;

namespace Coffer.Hsm.Tests;

public sealed class Pkcs11SessionPoolTests : IDisposable
{
    private readonly SoftHsmToken _token = SoftHsmToken.Create();

    public void Dispose() => _token.Dispose();

    [Fact]
    public async Task An_exhausted_pool_fails_with_HsmBusy_within_the_timeout()
    {
        using var backend = new Pkcs11CryptoBackend(SharedSoftHsm.Options(_token, poolSize: 2, timeoutMs: 150));
        backend.Connect();
        using var holding = new CountdownEvent(2);
        using var release = new ManualResetEventSlim();
        var holders = Enumerable.Range(0, 2).Select(_ => Task.Factory.StartNew(() => backend.Token.Run(_ =>
        {
            holding.Signal();
            release.Wait(TimeSpan.FromSeconds(30));
            return 0;
        }), TaskCreationOptions.LongRunning)).ToArray();
        Assert.True(holding.Wait(TimeSpan.FromSeconds(30)));

        var watch = Stopwatch.StartNew();
        var error = Assert.Throws<CryptoBackendBusyException>(() => backend.Token.Run(_ => 0));
        watch.Stop();
        release.Set();
        await Task.WhenAll(holders);

        Assert.InRange(watch.ElapsedMilliseconds, 100, 5000);
        Assert.Contains("2 HSM sessions", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, backend.Token.Run(_ => 0));
    }

    [Fact]
    public async Task A_queued_call_that_finds_no_session_in_time_fails_with_HsmBusy_and_the_HSM_thread_lives_on()
    {
        using var backend = new Pkcs11CryptoBackend(SharedSoftHsm.Options(_token, poolSize: 1, timeoutMs: 100));
        backend.Connect();
        using var holding = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holder = Task.Factory.StartNew(() => backend.Token.Run(_ =>
        {
            holding.Set();
            release.Wait(TimeSpan.FromSeconds(30));
            return 0;
        }), TaskCreationOptions.LongRunning);
        Assert.True(holding.Wait(TimeSpan.FromSeconds(30)));

        await Assert.ThrowsAsync<CryptoBackendBusyException>(() => backend.Token.RunAsync(_ => 1));
        release.Set();
        await holder;

        // The HSM thread lives on and the session is free again; a loaded machine can still keep a call
        // queued past the 100 ms this pool allows, so a busy answer is tried again, as callers do.
        var result = 0;
        await Wait.UntilAsync(async () =>
        {
            try
            {
                result = await backend.Token.RunAsync(_ => 2);
            }
            catch (CryptoBackendBusyException)
            {
            }

            return result == 2;
        }, "a call to run once the session is free");
    }

    [Fact]
    public async Task A_call_cancelled_while_queued_never_reaches_the_HSM()
    {
        using var backend = new Pkcs11CryptoBackend(SharedSoftHsm.Options(_token, poolSize: 1, timeoutMs: 10_000));
        backend.Connect();
        using var holding = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var first = backend.Token.RunAsync(_ =>
        {
            holding.Set();
            release.Wait(TimeSpan.FromSeconds(30));
            return 0;
        });
        Assert.True(holding.Wait(TimeSpan.FromSeconds(30)));

        using var cancel = new CancellationTokenSource();
        var ran = false;
        var queued = backend.Token.RunAsync(_ => ran = true, cancel.Token);
        await cancel.CancelAsync();
        release.Set();

        await first;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        Assert.False(ran);
    }

    [Fact]
    public async Task An_HSM_thread_does_not_run_the_callers_continuation()
    {
        using var backend = new Pkcs11CryptoBackend(SharedSoftHsm.Options(_token, poolSize: 1, timeoutMs: 10_000));
        var hsmThread = await backend.Token.RunAsync(_ => Environment.CurrentManagedThreadId);

        // After the await the caller runs on a pool thread, so the HSM thread is free for the next call.
        Assert.NotEqual(hsmThread, Environment.CurrentManagedThreadId);
        Assert.StartsWith("coffer-hsm-", await backend.Token.RunAsync(_ => Thread.CurrentThread.Name));
    }

    [Fact]
    public void A_pool_of_4_serves_16_threads()
    {
        using var backend = new Pkcs11CryptoBackend(SharedSoftHsm.Options(_token, poolSize: 4, timeoutMs: 10_000));
        using var key = backend.OpenKey("key_pool", 1, backend.CreateKeyMaterial("key_pool", 1, KeyUsage.EncryptDecrypt));
        var ok = 0;
        Parallel.For(0, 320, new ParallelOptions { MaxDegreeOfParallelism = 16 }, _ =>
        {
            var plaintext = RandomNumberGenerator.GetBytes(64);
            var iv = new byte[12];
            var ciphertext = new byte[64];
            var tag = new byte[16];
            key.Encrypt(plaintext, [], iv, ciphertext, tag);
            var decrypted = new byte[64];
            if (key.TryDecrypt(iv, ciphertext, tag, [], decrypted) && decrypted.AsSpan().SequenceEqual(plaintext))
            {
                Interlocked.Increment(ref ok);
            }
        });

        Assert.Equal(320, ok);
    }
}
