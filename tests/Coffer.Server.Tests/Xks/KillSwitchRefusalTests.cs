using System.Net;
using Coffer.Server.Tests.Management;
using Coffer.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>
/// A malformed kill switch is refused with a problem that says why, and engages nothing. The cases
/// share one node: none of them may engage a switch, so each also checks that no case before it did.
/// </summary>
public sealed class KillSwitchRefusalTests(SharedNode shared) : IClassFixture<SharedNode>
{
    private DevServer Node => shared.Node;

    [Theory]
    [InlineData("{\"scope\":\"galaxy\",\"reason\":\"r\"}", "scope")]
    [InlineData("{\"scope\":\"all\"}", "reason")]
    [InlineData("{\"scope\":\"all\",\"value\":\"x\",\"reason\":\"r\"}", "no value")]
    [InlineData("{\"scope\":\"region\",\"value\":\"EU West\",\"reason\":\"r\"}", "region")]
    [InlineData("{\"scope\":\"region\",\"value\":\"eu-west-9\",\"reason\":\"r\"}", "known AWS region")]
    [InlineData("{\"scope\":\"account\",\"value\":\"12345\",\"reason\":\"r\"}", "12-digit")]
    [InlineData("{\"scope\":\"principal\",\"value\":\"arn:aws:iam::1:role/a b\",\"reason\":\"r\"}", "principal ARN")]
    [InlineData("{\"scope\":\"vpc\",\"value\":\"subnet-1\",\"reason\":\"r\"}", "vpc-")]
    [InlineData("{\"scope\":\"key\",\"reason\":\"r\"}", "needs a value")]
    public async Task Malformed_engage_is_refused_with_a_problem_and_engages_nothing(string body, string mention)
    {
        using var response = await Node.Admin.PostRawAsync("/api/v1/kill-switches", body);
        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains(mention, (string)problem["detail"]!, StringComparison.Ordinal);
        Assert.Empty((await Node.Admin.GetJsonAsync("/api/v1/kill-switches?all=true")).AsArray());
        XksAssert.Ok(await XksClient.For(Node).EncryptAsync(Node.Info.KeyId, [1]));
    }
}
