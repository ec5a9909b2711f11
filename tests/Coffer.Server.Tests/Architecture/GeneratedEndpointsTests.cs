using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Coffer.Server.Hosting;

namespace Coffer.Server.Tests.Architecture;

/// <summary>
/// The minimal API endpoints' request delegates are generated when Coffer.Server is compiled (ASP.NET
/// Core's Request Delegate Generator, switched on in src/Coffer.Server/Coffer.Server.csproj), not
/// compiled from expression trees each time a node starts. The generator replaces each Map call it
/// handles by a method marked with its own (file-local) InterceptsLocation attribute; a call it cannot
/// handle is a build warning, so an error here. Read from the compiled assembly's metadata. See
/// docs/build.md, "Keeping the tests fast".
/// </summary>
public sealed class GeneratedEndpointsTests
{
    [Fact]
    public void The_endpoints_are_generated_at_compile_time()
    {
        using var pe = new PEReader(File.OpenRead(typeof(CofferServer).Assembly.Location));
        var metadata = pe.GetMetadataReader();

        // The generator's interceptors live in its own namespace (the OpenAPI package intercepts a call of
        // its own, elsewhere, with or without it).
        var intercepted = metadata.CustomAttributes
            .Select(metadata.GetCustomAttribute)
            .Where(a => a.Constructor.Kind == HandleKind.MethodDefinition && a.Parent.Kind == HandleKind.MethodDefinition)
            .Count(a => Name(metadata, TypeOf(metadata, (MethodDefinitionHandle)a.Constructor)).EndsWith("InterceptsLocationAttribute", StringComparison.Ordinal)
                && metadata.GetString(TypeOf(metadata, (MethodDefinitionHandle)a.Parent).Namespace) == "Microsoft.AspNetCore.Http.Generated");

        // Without the generator there are none; with it, one per Map call of both listeners (about a hundred).
        Assert.True(intercepted > 0, "No endpoint of Coffer.Server is generated at compile time: is EnableRequestDelegateGenerator still set?");
    }

    private static TypeDefinition TypeOf(MetadataReader metadata, MethodDefinitionHandle method) =>
        metadata.GetTypeDefinition(metadata.GetMethodDefinition(method).GetDeclaringType());

    private static string Name(MetadataReader metadata, TypeDefinition type) => metadata.GetString(type.Name);
}
