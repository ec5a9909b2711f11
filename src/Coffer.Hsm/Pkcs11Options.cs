using Coffer.Secrets;

namespace Coffer.Hsm;

/// <summary>
/// How Coffer reaches a PKCS#11 token (docs/pkcs11.md, "Configuration").
/// </summary>
/// <remarks>
/// The user PIN is never a value here: it comes from <see cref="PinFile"/> (one line, readable by
/// the service account only) or from the environment variable named by
/// <see cref="PinEnvironmentVariable"/>, so it never lands in a config file, a command line or
/// <c>ps</c> output.
/// </remarks>
public sealed class Pkcs11Options
{
    public const int DefaultSessionPoolSize = 8;
    public const int DefaultSessionTimeoutMs = 200;

    /// <summary>Absolute path of the vendor's PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so).</summary>
    public string? ModulePath { get; set; }

    /// <summary>The token's label (CK_TOKEN_INFO.label, trailing blanks ignored). Set this or <see cref="SlotId"/>.</summary>
    public string? TokenLabel { get; set; }

    /// <summary>The slot id. Set this or <see cref="TokenLabel"/>; a label survives re-initialisation, a slot id may not.</summary>
    public ulong? SlotId { get; set; }

    /// <summary>A file holding the user PIN (trailing newline ignored). It must not be readable or
    /// writable by other users.</summary>
    public string? PinFile { get; set; }

    /// <summary>The name (not the value) of an environment variable holding the user PIN.</summary>
    public string? PinEnvironmentVariable { get; set; }

    /// <summary>Logged-in sessions kept open; at most this many HSM calls run at once.</summary>
    public int SessionPoolSize { get; set; } = DefaultSessionPoolSize;

    /// <summary>How long a call waits for a free session before it fails with <see cref="Coffer.Crypto.CryptoBackendBusyException"/>.</summary>
    public int SessionTimeoutMs { get; set; } = DefaultSessionTimeoutMs;

    /// <summary>Throws <see cref="ArgumentException"/> naming every problem at once.</summary>
    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid PKCS#11 configuration: " + string.Join(" ", problems));
        }
    }

    /// <summary>Every problem of these options, each message starting with the setting it is about.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(ModulePath))
        {
            problems.Add("ModulePath is required (the vendor's PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so).");
        }
        else if (!Path.IsPathFullyQualified(ModulePath))
        {
            problems.Add($"ModulePath must be an absolute path, not '{ModulePath}'.");
        }
        else if (!File.Exists(ModulePath))
        {
            problems.Add($"ModulePath '{ModulePath}' does not exist.");
        }

        var hasLabel = !string.IsNullOrEmpty(TokenLabel);
        if (hasLabel == SlotId.HasValue)
        {
            problems.Add("TokenLabel or SlotId: set exactly one.");
        }
        else if (hasLabel && TokenLabel!.Length > 32)
        {
            problems.Add("TokenLabel is longer than 32 characters (CK_TOKEN_INFO.label).");
        }

        var hasFile = !string.IsNullOrEmpty(PinFile);
        var hasVariable = !string.IsNullOrEmpty(PinEnvironmentVariable);
        if (hasFile == hasVariable)
        {
            problems.Add("PinFile or PinEnvironmentVariable: set exactly one (the PIN itself never goes in the configuration).");
        }

        if (SessionPoolSize is < 1 or > 1024)
        {
            problems.Add($"SessionPoolSize must be 1..1024, not {SessionPoolSize}.");
        }

        if (SessionTimeoutMs is < 1 or > 60_000)
        {
            problems.Add($"SessionTimeoutMs must be 1..60000, not {SessionTimeoutMs}.");
        }

        return problems;
    }

    /// <summary>Reads the PIN as UTF-8 bytes; the caller zeroes them. Messages never contain the PIN.</summary>
    internal byte[] ReadPin()
    {
        string pin;
        if (!string.IsNullOrEmpty(PinFile))
        {
            if (!File.Exists(PinFile))
            {
                throw new ArgumentException($"The PIN file '{PinFile}' does not exist.");
            }

            if (SecretFile.IsOpenToOthers(PinFile))
            {
                throw new ArgumentException($"The PIN file '{PinFile}' is readable or writable by other users; chmod 600 it.");
            }

            pin = SecretFile.Read(PinFile);
        }
        else
        {
            pin = Environment.GetEnvironmentVariable(PinEnvironmentVariable!)
                ?? throw new ArgumentException($"The environment variable '{PinEnvironmentVariable}' named for the PIN is not set.");
        }

        if (pin.Length == 0)
        {
            throw new ArgumentException("The configured PIN is empty.");
        }

        return System.Text.Encoding.UTF8.GetBytes(pin);
    }
}
