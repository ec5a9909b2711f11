// The pkcs11 tests run on SoftHSM2, which these tests install from Debian's packages (./test.sh).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
