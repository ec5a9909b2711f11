using Coffer.Hsm.SoftHsm;
using System.Diagnostics;
using System.Security.Cryptography;

namespace Coffer.Testing;

/// <summary>
/// A throw-away SoftHSM2 token for tests. All tokens of a test process share one temporary
/// softhsm2.conf (and token directory): the module reads SOFTHSM2_CONF once, at C_Initialize, and a
/// process loads it only once, so each fixture is a new token with its own label in that directory.
/// </summary>
/// <remarks>
/// <para>Tokens are made with <c>softhsm2-util --init-token --free</c>; each token's files live in
/// their own subdirectory (<see cref="TokenDirectory"/>), which outage tests rename to make the token
/// vanish.</para>
/// <para>SoftHSM2 lists the tokens of its directory at C_Initialize and not again, so a token made
/// while the module is loaded in this process is found only after a reinitialisation (which Coffer
/// does only after a failure and a back-off, and which disturbs every other token's sessions), and a
/// token scanned while softhsm2-util is still writing it answers C_Login with
/// CKR_USER_PIN_NOT_INITIALIZED (both seen with parallel server tests). So the first use makes every
/// token the test process will take (<see cref="SoftHsmTokensAttribute"/>), before anything can load
/// the module with this configuration, and <see cref="Create"/> hands them out. One more is refused:
/// made then, it would be missing from the loaded module, its node would log event 1103 and
/// reinitialise the module under every other node's calls (docs/build.md, "Keeping the tests fast").</para>
/// </remarks>
public sealed class SoftHsmToken : IDisposable
{
    public const string DefaultModulePath = "/usr/lib/softhsm/libsofthsm2.so";

    private static readonly Lock Gate = new();
    private static readonly Queue<SoftHsmToken> Spare = new();
    private static string? _root;
    private static int _made;

    private SoftHsmToken(string label, string pin, string pinFile, string tokenDirectory)
    {
        TokenLabel = label;
        Pin = pin;
        PinFile = pinFile;
        TokenDirectory = tokenDirectory;
    }

    public static string ModulePath => DefaultModulePath;

    public string TokenLabel { get; }

    /// <summary>Only for tests that talk to the token directly.</summary>
    public string Pin { get; }

    /// <summary>A file (mode 600) holding the user PIN.</summary>
    public string PinFile { get; }

    /// <summary>This token's own directory under the shared token directory.</summary>
    public string TokenDirectory { get; }

    /// <summary>The shared softhsm2.conf, also set as SOFTHSM2_CONF for this process.</summary>
    public static string ConfigPath => Path.Combine(Root(), "softhsm2.conf");

    /// <summary>A new token of its own, one of those made at first use (see remarks).</summary>
    /// <exception cref="InvalidOperationException">This test process has taken every token made for it.</exception>
    public static SoftHsmToken Create()
    {
        Root();
        lock (Gate)
        {
            return Spare.TryDequeue(out var spare)
                ? spare
                : throw new InvalidOperationException($"This test process has taken all {_made} SoftHSM2 tokens made at its start, and a token made now would be missing from the SoftHSM2 module it has already loaded: raise [assembly: SoftHsmTokens] in the test project.");
        }
    }

    // The caller holds Gate.
    private static SoftHsmToken Make(string root)
    {
        var label = "t-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var pin = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var soPin = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var tokens = Path.Combine(root, "tokens");
        var before = Directory.GetDirectories(tokens).ToHashSet(StringComparer.Ordinal);
        Run("softhsm2-util", ["--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", soPin]);
        var directory = Directory.GetDirectories(tokens).Single(d => !before.Contains(d));

        var pinFile = Path.Combine(root, label + ".pin");
        File.WriteAllText(pinFile, pin + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(pinFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return new SoftHsmToken(label, pin, pinFile, directory);
    }

    /// <summary>Makes the token vanish from SoftHSM2: its directory moves out of the token directory
    /// (SoftHSM2 takes every subdirectory there for a token, whatever its name).</summary>
    public void TakeAway() => Directory.Move(TokenDirectory, AwayDirectory);

    /// <summary>Puts the token back where SoftHSM2 finds it (on its next C_Initialize).</summary>
    public void Restore() => Directory.Move(AwayDirectory, TokenDirectory);

    private string AwayDirectory => Path.Combine(Root(), "away-" + Path.GetFileName(TokenDirectory));

    public void Dispose()
    {
        // Files are removed with the whole temporary root at process exit; a token may still be in
        // use by the module until then.
        File.Delete(PinFile);
    }

    private static string Root()
    {
        lock (Gate)
        {
            if (_root is not null)
            {
                return _root;
            }

            if (!File.Exists("/usr/bin/softhsm2-util") && !ExistsOnPath("softhsm2-util"))
            {
                throw new InvalidOperationException("softhsm2-util was not found: install softhsm2 (apt-get install softhsm2, or run ./test.sh).");
            }

            if (!File.Exists(DefaultModulePath))
            {
                throw new InvalidOperationException($"{DefaultModulePath} was not found: install softhsm2.");
            }

            var root = Path.Combine(Path.GetTempPath(), "coffer-softhsm-" + Environment.ProcessId + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));
            Directory.CreateDirectory(Path.Combine(root, "tokens"));
            var conf = Path.Combine(root, "softhsm2.conf");
            File.WriteAllText(conf, $"directories.tokendir = {root}/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n");

            // .NET keeps its own copy of the environment on Unix: Environment.SetEnvironmentVariable
            // reaches child processes (softhsm2-util) but not getenv() in the native module, so set
            // both. This runs before any test loads the module.
            NativeEnvironment.Set("SOFTHSM2_CONF", conf);

            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                try
                {
                    Directory.Delete(root, recursive: true);
                }
                catch (IOException)
                {
                }
            };
            _made = SoftHsmTokensAttribute.DeclaredCount();
            for (var i = 0; i < _made; i++)
            {
                Spare.Enqueue(Make(root));
            }

            _root = root;
            return root;
        }
    }

    private static bool ExistsOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, name)));

    private static void Run(string file, string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} failed ({process.ExitCode}): {error} {output.Result}");
        }
    }
}
