using System.Globalization;

namespace Coffer.Bench;

/// <summary>Options of `Coffer.Bench run` (see bench/run.sh for the documented defaults).</summary>
public sealed class Options
{
    public TimeSpan Duration { get; private set; } = TimeSpan.FromSeconds(15);
    public TimeSpan Warmup { get; private set; } = TimeSpan.FromSeconds(3);
    public int? Concurrency { get; private set; }                 // null = auto (pick from Candidates)
    public int[] Candidates { get; private set; } = [16, 32, 64, 128];
    public TimeSpan Trial { get; private set; } = TimeSpan.FromSeconds(4);
    public double Rate { get; private set; } = 1800;
    public int OpenConnections { get; private set; } = 64;
    public string Pin { get; private set; } = "none";             // none: all share both CPUs; split: server CPU 0, client CPU 1
    public string Client { get; private set; } = "raw";           // raw | http
    public int PoolSize { get; private set; } = 1024;
    public string? CofferDll { get; private set; }
    public bool Fake { get; private set; }                         // development only, never reported
    public bool Extras { get; private set; } = true;               // CDIV and 4300-byte scenarios
    public string? Out { get; private set; }
    public List<string> CofferArgs { get; } = [];                  // extra `coffer dev` arguments (diagnosis)
    public string? CofferVersion { get; private set; }             // label only (run.sh passes the git commit)
    public bool Wrk { get; private set; }                          // cross-check the ceiling with wrk
    public HashSet<string> Scenarios { get; private set; } = [.. AllScenarios];
    public static readonly string[] AllScenarios = ["ceiling", "encrypt", "decrypt", "rules100", "open", "flood", "cdiv", "4300", "quietlog", "unaudited", "packing"];
    public TimeSpan FloodDuration { get; private set; } = TimeSpan.FromSeconds(60);  // the anonymous flood, and the signed calls next to it
    public int FloodConnections { get; private set; } = 32;        // the flood's clients, back to back from 127.0.0.2
    // --backend pkcs11: `coffer dev --pkcs11` (SoftHSM2 token) and the raw PKCS#11 ceiling in the same run.
    public string Backend { get; private set; } = "software";
    public int HsmConcurrency { get; private set; } = 8;           // raw PKCS#11 threads = Coffer's clients for the headline
    public int Repeat { get; private set; } = 3;                   // pkcs11: headline pair (raw @8, Coffer encrypt @8) repeated
    public int AuditPairs { get; private set; } = 3;               // software: audited / audit-off encrypt taking turns, the goal on their median
    public bool HsmSessionKeyRow { get; private set; } = true;
    // --cluster: 1 node on SQLite, 1 node on PostgreSQL, 2 nodes on PostgreSQL behind HAProxy (pairs: --repeat).
    public bool Cluster { get; private set; }
    public int KillSwitchSamples { get; private set; } = 50;      // cluster: kill-switch propagation samples (0: none)
    public TimeSpan FailoverDuration { get; private set; } = TimeSpan.FromSeconds(20); // cluster: open loop with a node killed midway (0: none)     // pkcs11: extra raw row on a session (not token) key
    public string HsmModule => Pkcs11Ceiling.DefaultModule;      // what `coffer dev --pkcs11` loads
    public static readonly string[] Pkcs11Scenarios = ["ceiling", "encrypt", "decrypt", "open", "best", "cdiv", "unaudited", "software"];
    private bool _scenariosGiven;

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--duration": o.Duration = Seconds(Next()); break;
                case "--warmup": o.Warmup = Seconds(Next()); break;
                case "--trial": o.Trial = Seconds(Next()); break;
                case "--concurrency":
                    var c = Next();
                    o.Concurrency = c == "auto" ? null : Positive(c);
                    break;
                case "--candidates": o.Candidates = [.. Next().Split(',').Select(Positive)]; break;
                case "--rate": o.Rate = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--open-connections": o.OpenConnections = Positive(Next()); break;
                case "--pin": o.Pin = OneOf(Next(), "split", "none"); break;
                case "--client": o.Client = OneOf(Next(), "raw", "http"); break;
                case "--pool": o.PoolSize = Positive(Next()); break;
                case "--coffer-dll": o.CofferDll = Path.GetFullPath(Next()); break;
                case "--fake": o.Fake = true; break;
                case "--wrk": o.Wrk = true; break;
                case "--coffer-version": o.CofferVersion = Next(); break;
                case "--coffer-arg": o.CofferArgs.Add(Next()); break;
                case "--no-extras": o.Extras = false; break;
                case "--scenarios": o.Scenarios = [.. Next().Split(',').Select(x => OneOf(x, [.. AllScenarios, "best", "software"]))]; o._scenariosGiven = true; break;
                case "--backend": o.Backend = OneOf(Next(), "software", "pkcs11"); break;
                case "--hsm-concurrency": o.HsmConcurrency = Positive(Next()); break;
                case "--repeat": o.Repeat = Positive(Next()) is <= 10 and var r ? r : throw new ArgumentException("--repeat 1..10"); break;
                case "--audit-pairs": o.AuditPairs = Positive(Next()) is <= 10 and var a ? a : throw new ArgumentException("--audit-pairs 1..10"); break;
                case "--no-session-key-row": o.HsmSessionKeyRow = false; break;
                case "--flood-duration": o.FloodDuration = Seconds(Next()); break;
                case "--flood-connections": o.FloodConnections = Positive(Next()); break;
                case "--cluster": o.Cluster = true; break;
                case "--kill-switch-samples": o.KillSwitchSamples = int.Parse(Next(), CultureInfo.InvariantCulture) is >= 0 and <= 1000 and var k ? k : throw new ArgumentException("--kill-switch-samples 0..1000"); break;
                case "--failover-duration": o.FailoverDuration = Seconds(Next()); break;

                case "--out": o.Out = Path.GetFullPath(Next()); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        // Bounded runs: pre-signed requests must stay inside the server's 5-minute skew window.
        if (o.Duration > TimeSpan.FromSeconds(120) || o.Warmup > TimeSpan.FromSeconds(60) || o.FloodDuration > TimeSpan.FromSeconds(120) || o.FailoverDuration > TimeSpan.FromSeconds(120))
            throw new ArgumentException("--duration <= 120 s and --warmup <= 60 s (signatures are valid 5 minutes)");
        if (o.Rate <= 0 || o.Rate > 100_000) throw new ArgumentException("--rate in (0, 100000]");
        if (o.Backend == "pkcs11" && !o._scenariosGiven) o.Scenarios = [.. Pkcs11Scenarios];
        if (o.Backend == "pkcs11" && o.Fake) throw new ArgumentException("--backend pkcs11 measures Coffer, not --fake");
        if (o.Cluster && (o.Backend != "software" || o.Fake)) throw new ArgumentException("--cluster measures Coffer's software backend, not --fake or --backend pkcs11");
        if (o.Backend == "pkcs11" && !File.Exists(o.HsmModule))
            throw new ArgumentException($"--backend pkcs11 needs SoftHSM2 ({o.HsmModule} is missing): apt-get install softhsm2 (Debian/Ubuntu)");
        if (!o.Extras) { o.Scenarios.Remove("cdiv"); o.Scenarios.Remove("4300"); o.Scenarios.Remove("quietlog"); o.Scenarios.Remove("unaudited"); o.Scenarios.Remove("packing"); }
        o.Scenarios.Add("ceiling"); // every ratio needs it
        if (!o.Fake && o.CofferDll is null) throw new ArgumentException("--coffer-dll PATH (or --fake for development)");
        return o;
    }

    private static TimeSpan Seconds(string s) =>
        TimeSpan.FromSeconds(double.Parse(s.TrimEnd('s'), CultureInfo.InvariantCulture));

    private static int Positive(string s) =>
        int.Parse(s, CultureInfo.InvariantCulture) is > 0 and <= 4096 and var v ? v : throw new ArgumentException($"bad count {s}");

    private static string OneOf(string s, params string[] allowed) =>
        allowed.Contains(s) ? s : throw new ArgumentException($"'{s}' is not one of {string.Join('|', allowed)}");
}
