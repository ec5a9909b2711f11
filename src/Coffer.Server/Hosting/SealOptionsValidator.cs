using Coffer.Server.Seal;
using Microsoft.Extensions.Options;

namespace Coffer.Server.Hosting;

/// <summary>The seal and the PKCS#11 token (docs/pkcs11.md, "Configuration").</summary>
internal sealed class SealOptionsValidator : IValidateOptions<CofferOptions>
{
    public ValidateOptionsResult Validate(string? name, CofferOptions options)
    {
        var problems = new OptionsProblems();
        problems.Require(options.Seal is SealKinds.Shamir or SealKinds.Pkcs11 or SealKinds.Dev,
            $"Seal must be '{SealKinds.Shamir}', '{SealKinds.Pkcs11}' or '{SealKinds.Dev}', not '{options.Seal}'.");
        problems.Require(options.Seal != SealKinds.Pkcs11 || options.Pkcs11 is not null,
            "Pkcs11 is required by the pkcs11 seal: the token's module, label or slot, and PIN source.");
        foreach (var problem in options.Pkcs11?.Problems() ?? [])
        {
            problems.Require(false, "Pkcs11:" + problem);
        }

        return problems.Result;
    }
}
