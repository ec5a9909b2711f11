using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using ISession = Net.Pkcs11Interop.HighLevelAPI.ISession;

namespace Coffer.Bench;

/// <summary>
/// The PKCS#11 backend's ceiling: raw CKM_AES_GCM through Pkcs11Interop on the same token `coffer dev
/// --pkcs11` uses, no HTTP, no Coffer. It runs as its own process (`Coffer.Bench pkcs11-ceiling`),
/// started by `run` with SOFTHSM2_CONF in its environment (SoftHSM2 reads it with C getenv at
/// C_Initialize, which .NET's Environment.SetEnvironmentVariable does not reach).
/// </summary>
/// <remarks>
/// Per operation it does what Coffer's HSM key does per XKS encrypt (src/Coffer.Hsm/Pkcs11AeadKey.cs):
/// C_GenerateRandom(12) for the IV, CK_GCM_PARAMS (96-bit IV, 128-bit tag, the XKS AAD
/// <c>u16 len || 32-byte AAD || u8 len || 5-byte metadata</c> = 40 bytes), C_EncryptInit + C_Encrypt of
/// 32 bytes, plaintext and AAD copied into fresh arrays as Coffer does. Each thread has its own
/// session on the token (logged in: login state is per application and token). The key is an
/// AES-256, sensitive, non-extractable key generated for the bench: by default a token object
/// (CKA_TOKEN=true, as Coffer's keys are; SoftHSM2's file object store then does per-object work a
/// session key does not), or with <c>--key session</c> a session object. A token key is destroyed at
/// the end.
/// </remarks>
public static class Pkcs11Ceiling
{
    public const string DefaultModule = "/usr/lib/softhsm/libsofthsm2.so";
    private const int PlaintextBytes = 32;
    private const int UserAadBytes = 32;
    private const int MetadataBytes = 5;
    public const int AadBytes = 2 + UserAadBytes + 1 + MetadataBytes;

    public sealed record Result(string Key, int Threads, long Ok, long Errors, double Seconds, long[] Histogram,
        double CpuSelf, double CpuParent, double CpuIrq, double CpuOther, double CpuIdle, string? FirstError);

    public static int Run(string[] args)
    {
        string Arg(string name, string? fallback = null)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback ?? throw new ArgumentException($"{name} is required");
        }
        double Num(string name, double fallback) => double.Parse(Arg(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

        var module = Arg("--module", DefaultModule);
        var label = Arg("--label", "coffer-dev");
        var pin = File.ReadAllText(Arg("--pin-file")).TrimEnd('\r', '\n');
        var threads = (int)Num("--threads", 8);
        var warmup = TimeSpan.FromSeconds(Num("--warmup", 3));
        var duration = TimeSpan.FromSeconds(Num("--duration", 15));
        var keyKind = Arg("--key", "token");
        var output = Arg("--out");
        var parent = (int)Num("--parent", 0);
        if (threads is < 1 or > 256) throw new ArgumentException("--threads 1..256");
        if (duration > TimeSpan.FromSeconds(120) || warmup > TimeSpan.FromSeconds(60)) throw new ArgumentException("--duration <= 120, --warmup <= 60");
        if (keyKind is not ("token" or "session")) throw new ArgumentException("--key token|session");
        if (Environment.GetEnvironmentVariable("SOFTHSM2_CONF") is null && module.Contains("softhsm", StringComparison.Ordinal))
            throw new ArgumentException("SOFTHSM2_CONF must be set in this process's environment (the bench starts it so)");
        ExitWhenParentGone(parent);
        NativeResolver.Register();

        var factories = new Pkcs11InteropFactories();
        using var library = factories.Pkcs11LibraryFactory.LoadPkcs11Library(factories, module, AppType.MultiThreaded);
        var slot = library.GetSlotList(SlotsType.WithTokenPresent).FirstOrDefault(s => s.GetTokenInfo().Label.Trim() == label)
            ?? throw new BenchException($"no token labelled '{label}' in {module} (SOFTHSM2_CONF={Environment.GetEnvironmentVariable("SOFTHSM2_CONF")})");

        // One session per thread, plus the one that made the key (and destroys it at the end).
        using var admin = slot.OpenSession(SessionType.ReadWrite);
        Login(admin, pin);
        var attrs = factories.ObjectAttributeFactory;
        var key = admin.GenerateKey(factories.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN),
        [
            attrs.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY), attrs.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
            attrs.Create(CKA.CKA_VALUE_LEN, 32), attrs.Create(CKA.CKA_TOKEN, keyKind == "token"),
            attrs.Create(CKA.CKA_PRIVATE, true), attrs.Create(CKA.CKA_SENSITIVE, true),
            attrs.Create(CKA.CKA_EXTRACTABLE, false), attrs.Create(CKA.CKA_MODIFIABLE, false),
            attrs.Create(CKA.CKA_ENCRYPT, true), attrs.Create(CKA.CKA_DECRYPT, true),
            attrs.Create(CKA.CKA_LABEL, $"coffer-bench:raw-ceiling:{Environment.ProcessId}"),
        ]);
        try
        {
            var sessions = Enumerable.Range(0, threads).Select(_ =>
            {
                var s = slot.OpenSession(SessionType.ReadWrite);
                Login(s, pin);
                return s;
            }).ToArray();
            try
            {
                var result = Measure(sessions, key, keyKind, warmup, duration, parent);
                File.WriteAllText(output + ".tmp", JsonSerializer.Serialize(result));
                File.Move(output + ".tmp", output, overwrite: true);
                return result.Errors > 0 ? 3 : 0;
            }
            finally
            {
                foreach (var s in sessions) s.Dispose();
            }
        }
        finally
        {
            if (keyKind == "token") admin.DestroyObject(key);
        }
    }

    private static Result Measure(ISession[] sessions, IObjectHandle key, string keyKind, TimeSpan warmup, TimeSpan duration, int parent)
    {
        const long maxPerThread = 50_000_000;
        var freq = Stopwatch.Frequency;
        var start = Stopwatch.GetTimestamp();
        var from = start + (long)(warmup.TotalSeconds * freq);
        var to = from + (long)(duration.TotalSeconds * freq);
        CpuSampler? cpu = null;
        var cpuStarted = new ManualResetEventSlim();
        // CPU over the measured window only: sampled from a timer thread at `from` and `to`.
        var cpuThread = new Thread(() =>
        {
            Thread.Sleep(warmup);
            cpu = new CpuSampler(parent); // parent 0: no such process, counts 0
            cpuStarted.Set();
        }) { IsBackground = true };
        cpuThread.Start();

        var histograms = new Histogram[sessions.Length];
        var errors = new long[sessions.Length];
        string? firstError = null;
        var workers = sessions.Select((session, w) => new Thread(() =>
        {
            var h = new Histogram();
            var plaintext = new byte[PlaintextBytes];
            var aad = new byte[AadBytes];
            Random.Shared.NextBytes(plaintext);
            Random.Shared.NextBytes(aad);
            aad[0] = 0; aad[1] = UserAadBytes; aad[2 + UserAadBytes] = MetadataBytes;
            var mechanisms = session.Factories;
            for (long n = 0; n < maxPerThread; n++)
            {
                var t0 = Stopwatch.GetTimestamp();
                if (t0 >= to) break;
                try
                {
                    // As Pkcs11AeadKey.Encrypt: copies of the inputs, a token-chosen IV, GCM params, C_Encrypt.
                    var input = plaintext.AsSpan().ToArray();
                    var aadBytes = aad.AsSpan().ToArray();
                    var iv = session.GenerateRandom(12);
                    using var parameters = mechanisms.MechanismParamsFactory.CreateCkGcmParams(iv, 96, aadBytes, 128);
                    using var mechanism = mechanisms.MechanismFactory.Create(CKM.CKM_AES_GCM, parameters);
                    var output = session.Encrypt(mechanism, key, input);
                    if (output.Length != PlaintextBytes + 16) throw new BenchException($"C_Encrypt returned {output.Length} bytes");
                    Array.Clear(input);
                }
                catch (Exception e) when (e is Pkcs11Exception or BenchException)
                {
                    errors[w]++;
                    Interlocked.CompareExchange(ref firstError, e.Message, null);
                    Thread.Sleep(5); // a failing token must not spin
                    continue;
                }
                var t1 = Stopwatch.GetTimestamp();
                if (t0 >= from && t1 <= to) h.Record((long)((t1 - t0) * (1e9 / freq)));
            }
            histograms[w] = h;
        }) { IsBackground = true, Name = $"pkcs11 worker {w}" }).ToArray();
        foreach (var t in workers) t.Start();
        var deadline = TimeSpan.FromSeconds(warmup.TotalSeconds + duration.TotalSeconds + 10);
        foreach (var t in workers)
            if (!t.Join(deadline)) throw new BenchException("a PKCS#11 worker did not finish in time");
        cpuStarted.Wait(TimeSpan.FromSeconds(5));
        // CpuSampler(parent) counts the parent as "server" and this process as "client".
        var c = cpu?.Stop() ?? (0, 0, 0, 0, 0);
        var all = new Histogram();
        foreach (var h in histograms) all.Add(h);
        return new Result(keyKind, sessions.Length, all.Count, errors.Sum(), duration.TotalSeconds, all.ToSparse(),
            c.Client, parent > 0 ? c.Server : 0, c.Irq, c.Other, c.Idle, firstError);
    }

    private static void Login(ISession session, string pin)
    {
        try { session.Login(CKU.CKU_USER, pin); }
        catch (Pkcs11Exception e) when (e.RV == CKR.CKR_USER_ALREADY_LOGGED_IN) { } // login is per application and token
    }

    private static void ExitWhenParentGone(int parent)
    {
        if (parent <= 0) return;
        new Thread(() =>
        {
            while (Directory.Exists($"/proc/{parent}")) Thread.Sleep(1000);
            Environment.Exit(4);
        }) { IsBackground = true, Name = "parent watch" }.Start();
    }

    /// <summary>Pkcs11Interop 5.3.0 imports dlopen from "libdl"; glibc 2.34+ ships only libdl.so.2 (the
    /// same mapping as src/Coffer.Hsm/Pkcs11NativeResolver.cs, copied: the bench does not reference Coffer).</summary>
    private static class NativeResolver
    {
        public static void Register() =>
            NativeLibrary.SetDllImportResolver(typeof(Pkcs11InteropFactories).Assembly, (name, _, _) =>
            {
                if (name == "libdl" && OperatingSystem.IsLinux())
                    foreach (var candidate in new[] { "libdl.so.2", "libc.so.6" })
                        if (NativeLibrary.TryLoad(candidate, out var handle)) return handle;
                return IntPtr.Zero;
            });
    }
}
