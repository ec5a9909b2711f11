using System.Diagnostics;
using System.Security.Cryptography;

namespace Coffer.Hsm.SoftHsm;

/// <summary>
/// The throw-away SoftHSM2 token of <c>coffer dev --pkcs11</c>: its configuration, token files and
/// PIN file live under the data directory, made once and reused. Installs nothing: without
/// SoftHSM2 it says what to install.
/// </summary>
public static class SoftHsmDevToken
{
    public const string ModulePath = "/usr/lib/softhsm/libsofthsm2.so";
    public const string TokenLabel = "coffer-dev";

    /// <summary>Whether a data directory already has a dev token (so later starts keep using it).</summary>
    public static bool ExistsIn(string dataDirectory) => File.Exists(PinFile(dataDirectory));

    /// <summary>Creates the token when missing, points this process's SoftHSM2 at it (before the
    /// module is loaded) and returns the options that reach it.</summary>
    public static Pkcs11Options Ensure(string dataDirectory)
    {
        if (!File.Exists(ModulePath))
        {
            throw new InvalidOperationException(
                $"--pkcs11 needs SoftHSM2 ({ModulePath} is missing): install it, e.g. 'apt-get install softhsm2' on Debian or Ubuntu, and run again.");
        }

        var root = Path.Combine(dataDirectory, "softhsm");
        var config = Path.Combine(root, "softhsm2.conf");
        Directory.CreateDirectory(Path.Combine(root, "tokens"));
        if (!File.Exists(config))
        {
            File.WriteAllText(config, $"directories.tokendir = {Path.Combine(root, "tokens")}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n");
        }

        NativeEnvironment.Set("SOFTHSM2_CONF", config);
        var pinFile = PinFile(dataDirectory);
        if (!File.Exists(pinFile))
        {
            var pin = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            var soPin = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            // A throw-away development token: softhsm2-util only takes its PINs as arguments.
            Run("softhsm2-util", "--init-token", "--free", "--label", TokenLabel, "--pin", pin, "--so-pin", soPin);
            var temp = pinFile + ".tmp";
            File.WriteAllText(temp, pin);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            File.Move(temp, pinFile, overwrite: true);
        }

        return new Pkcs11Options { ModulePath = ModulePath, TokenLabel = TokenLabel, PinFile = pinFile };
    }

    private static string PinFile(string dataDirectory) => Path.Combine(dataDirectory, "pkcs11.pin");

    private static void Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process? process;
        try
        {
            process = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException($"{file} was not found: install softhsm2 (e.g. 'apt-get install softhsm2').");
        }

        using (process)
        {
            if (process is null)
            {
                throw new InvalidOperationException($"{file} did not start.");
            }

            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"{file} could not create the dev token (exit {process.ExitCode}): {error.Trim()} {output.Result.Trim()}");
            }
        }
    }
}
