using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Coffer.Server.Hosting;

namespace Coffer.Server.Tests.Architecture;

/// <summary>
/// The server speaks to key backends only through Coffer.Core's <c>ICryptoBackend</c> and its
/// exceptions (docs/architecture.md, "Crypto backends"); only the composition root builds the PKCS#11
/// backend from its options. Read from the compiled assembly's metadata, so every way of naming a
/// type (a using, a full name, a catch, a cast, a pattern) is seen, and comments and strings are not.
/// </summary>
public sealed class BackendNeutralServerTests
{
    private const string HsmAssembly = "Coffer.Hsm";

    // What Hosting/CofferNode.cs (and the options it reads) needs to build and connect the backend, and
    // Hosting/SealOptionsValidator.cs to check its options.
    private static readonly string[] AllowedTypes = ["Coffer.Hsm.Pkcs11CryptoBackend", "Coffer.Hsm.Pkcs11Options"];

    private static readonly string[] AllowedMembers =
    [
        "Coffer.Hsm.Pkcs11CryptoBackend::.ctor",
        "Coffer.Hsm.Pkcs11CryptoBackend::Connect",
        "Coffer.Hsm.Pkcs11Options::Problems",
    ];

    [Fact]
    public void The_server_references_no_Hsm_type_beyond_what_its_composition_root_builds()
    {
        var (types, members) = HsmReferencesOf(typeof(CofferServer).Assembly.Location);

        Assert.NotEmpty(types); // the reader sees the composition root, so an empty answer is no pass
        Assert.Empty(types.Except(AllowedTypes, StringComparer.Ordinal));
        Assert.Empty(members.Except(AllowedMembers, StringComparer.Ordinal));
    }

    /// <summary>The full names of the Coffer.Hsm types the assembly refers to, and of the members it
    /// calls or reads on them ("Type::Member").</summary>
    private static (SortedSet<string> Types, SortedSet<string> Members) HsmReferencesOf(string assemblyPath)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        var types = new SortedSet<string>(StringComparer.Ordinal);
        var names = new Dictionary<TypeReferenceHandle, string>();
        foreach (var handle in metadata.TypeReferences)
        {
            if (FullNameIfHsm(metadata, handle) is { } name)
            {
                types.Add(name);
                names[handle] = name;
            }
        }

        var members = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var handle in metadata.MemberReferences)
        {
            var member = metadata.GetMemberReference(handle);
            if (member.Parent.Kind == HandleKind.TypeReference && names.TryGetValue((TypeReferenceHandle)member.Parent, out var type))
            {
                members.Add(type + "::" + metadata.GetString(member.Name));
            }
        }

        return (types, members);
    }

    // A type defined in Coffer.Hsm, nested ones included (their scope is the enclosing type's reference).
    private static string? FullNameIfHsm(MetadataReader metadata, TypeReferenceHandle handle)
    {
        var type = metadata.GetTypeReference(handle);
        var scope = type.ResolutionScope;
        string? outer = null;
        if (scope.Kind == HandleKind.TypeReference)
        {
            outer = FullNameIfHsm(metadata, (TypeReferenceHandle)scope);
            if (outer is null)
            {
                return null;
            }
        }
        else if (scope.Kind != HandleKind.AssemblyReference
            || !metadata.StringComparer.Equals(metadata.GetAssemblyReference((AssemblyReferenceHandle)scope).Name, HsmAssembly))
        {
            return null;
        }

        var name = metadata.GetString(type.Name);
        return outer is not null ? outer + "+" + name
            : type.Namespace.IsNil ? name
            : metadata.GetString(type.Namespace) + "." + name;
    }
}
