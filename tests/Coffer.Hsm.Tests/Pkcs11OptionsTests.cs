using Coffer.Testing;

namespace Coffer.Hsm.Tests;

public sealed class Pkcs11OptionsTests
{
    [Fact]
    public void Validation_names_every_problem()
    {
        var options = new Pkcs11Options { ModulePath = "relative.so", SessionPoolSize = 0, SessionTimeoutMs = 0 };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("absolute path", error.Message, StringComparison.Ordinal);
        Assert.Contains("TokenLabel or SlotId", error.Message, StringComparison.Ordinal);
        Assert.Contains("PinFile or PinEnvironmentVariable", error.Message, StringComparison.Ordinal);
        Assert.Contains("SessionPoolSize", error.Message, StringComparison.Ordinal);
        Assert.Contains("SessionTimeoutMs", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pin_file_others_can_read_is_refused()
    {
        var pinFile = Path.GetTempFileName();
        try
        {
            File.WriteAllText(pinFile, "1234");
            File.SetUnixFileMode(pinFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
            var options = new Pkcs11Options { ModulePath = SoftHsmToken.ModulePath, TokenLabel = "x", PinFile = pinFile };

            var error = Assert.Throws<ArgumentException>(() => options.ReadPin());

            Assert.Contains("chmod 600", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("1234", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(pinFile);
        }
    }

    [Fact]
    public void The_pin_can_come_from_an_environment_variable()
    {
        var name = "COFFER_TEST_PIN_" + Environment.ProcessId;
        Environment.SetEnvironmentVariable(name, "4321");
        try
        {
            var options = new Pkcs11Options { ModulePath = SoftHsmToken.ModulePath, TokenLabel = "x", PinEnvironmentVariable = name };
            options.Validate();

            Assert.Equal("4321"u8.ToArray(), options.ReadPin());
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }
}
