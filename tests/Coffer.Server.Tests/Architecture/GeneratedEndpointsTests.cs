using Coffer.Server.Hosting;

namespace Coffer.Server.Tests.Architecture;

/// <summary>
/// The minimal API endpoints' request delegates are generated when Coffer.Server is compiled (ASP.NET
/// Core's Request Delegate Generator, switched on in src/Coffer.Server/Coffer.Server.csproj), not
/// compiled from expression trees each time a node starts. The generator replaces each Map call it
/// handles by a method marked with an InterceptsLocation attribute; a call it cannot handle is a build
/// warning, so an error here. See docs/build.md, "Keeping the tests fast".
/// </summary>
public sealed class GeneratedEndpointsTests
{
    [Fact]
    public void The_endpoints_of_both_listeners_are_generated_at_compile_time()
    {
        var intercepted = typeof(CofferServer).Assembly.GetTypes()
            .Where(t => t.Namespace == "Microsoft.AspNetCore.Http.Generated")
            .SelectMany(t => t.GetMethods(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public))
            .Sum(m => m.CustomAttributes.Count(a => a.AttributeType.Name == "InterceptsLocationAttribute"));

        // Without the generator there are none; with it, one per Map call of both listeners (about a hundred).
        Assert.True(intercepted > 0, "No endpoint of Coffer.Server is generated at compile time: is EnableRequestDelegateGenerator still set?");
    }
}
