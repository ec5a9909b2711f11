using System.Globalization;
using Coffer.Bench;

// Coffer.Bench run ...            the whole comparison (bench/run.sh calls this)
// Coffer.Bench ceiling --port P   the bare Kestrel ceiling server (started by `run`)
// Coffer.Bench pkcs11-ceiling ... raw AES-GCM through Pkcs11Interop (started by `run --backend pkcs11`)
// Coffer.Bench fake-xks ...       development-only XKS stand-in, never reported as Coffer
try
{
    string Arg(string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
    int IntArg(string name, int fallback) => int.Parse(Arg(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    return args.FirstOrDefault() switch
    {
        "ceiling" => await CeilingServer.RunAsync(IntArg("--port", 0), IntArg("--parent", 0)),
        "fake-xks" => await FakeXks.RunAsync(IntArg("--port", 0), Arg("--data", "."), IntArg("--parent", 0)),
        "pkcs11-ceiling" => Pkcs11Ceiling.Run(args[1..]),
        "run" => await Orchestrator.RunAsync(Options.Parse(args[1..])),
        _ => Usage(),
    };
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return Usage();
}

static int Usage()
{
    Console.Error.WriteLine("usage: Coffer.Bench run [--coffer-dll PATH | --fake] [--duration 15] [--warmup 3] " +
        "[--concurrency auto|N] [--candidates 32,64] [--rate 1800] [--pin split|none] [--client raw|http] [--out FILE]");
    Console.Error.WriteLine("       Coffer.Bench ceiling --port P");
    Console.Error.WriteLine("       Coffer.Bench pkcs11-ceiling --pin-file F --out RESULT.json [--module M] [--label coffer-dev] [--threads 8] [--key token|session] [--warmup 3] [--duration 15] (SOFTHSM2_CONF in the environment)");
    return 2;
}
