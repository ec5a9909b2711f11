using System.Text.Json;
using Coffer.Policies;

namespace Coffer.Core.Tests.Policies;

/// <summary>Rule documents that must be refused, each with the field the refusal names.</summary>
public sealed class AccessPolicyCompilerTests
{
    [Theory]
    [InlineData("{}", "rules")]
    [InlineData("{'rules':[{'effect':'allow'}]}", "rules[0].name")]
    [InlineData("{'rules':[{'name':'a b','effect':'allow'}]}", "rules[0].name")]
    [InlineData("{'rules':[{'name':'a','effect':'allow'},{'name':'a','effect':'deny'}]}", "rules[1].name")]
    [InlineData("{'rules':[{'name':'a'}]}", "rules[0].effect")]
    [InlineData("{'rules':[{'name':'a','effect':'permit'}]}", "rules[0].effect")]
    [InlineData("{'rules':[{'name':'a','effect':'Allow'}]}", "rules[0].effect")]
    [InlineData("{'rules':[{'name':'a','effect':'allow','operation':['encrypt','health']}]}", "rules[0].operation[1]")]
    [InlineData("{'rules':[{'name':'a','effect':'allow','operation':[]}]}", "rules[0].operation")]
    [InlineData("{'rules':[{'name':'a','effect':'allow','sourceIp':['10.0.0.1/8']}]}", "rules[0].sourceIp[0]")]
    [InlineData("{'rules':[{'name':'a','effect':'allow','sourceIp':['10.0.0.0/33']}]}", "rules[0].sourceIp[0]")]
    [InlineData("{'rules':[{'name':'a','effect':'allow','sourceIp':['2001:db8::/129']}]}", "rules[0].sourceIp[0]")]
    [InlineData("{'rules':[{'name':'a','effect':'allow','sourceIp':['192.0.2.0/24','nope']}]}", "rules[0].sourceIp[1]")]
    [InlineData("{'rules':[{'name':'a','effect':'allow','kmsKeyRegion':['atlantis']}]}", "rules[0].kmsKeyRegion[0]")]
    [InlineData("{'rules':[{'name':'a','effect':'allow','signingRegion':['eu-west-1','EU-*']}]}", "rules[0].signingRegion[1]")]
    [InlineData("{'rules':[{'name':'a','effect':'allow','awsAccount':['12345']}]}", "rules[0].awsAccount[0]")]
    [InlineData("{'rules':[{'name':'a','effect':'allow','kmsKeyAccount':['1234567890*']}]}", "rules[0].kmsKeyAccount[0]")]
    [InlineData("{'rules':[{'name':'a','effect':'allow','awsPrincipalArn':['']}]}", "rules[0].awsPrincipalArn[0]")]
    [InlineData("{'rules':[{'name':'a','effect':'allow','awsPrincipalArn':['arn:aws:iam::1:role/a b']}]}", "rules[0].awsPrincipalArn[0]")]
    [InlineData("{'rules':[{'name':'a','effect':'allow','notBefore':'2026-02-01T00:00:00Z','notAfter':'2026-01-01T00:00:00Z'}]}", "rules[0].notAfter")]
    [InlineData("{'rules':[{'name':'ok','effect':'deny'},{'name':'b','effect':'allow','awsSourceVpce':[]}]}", "rules[1].awsSourceVpce")]
    public void A_bad_document_is_refused_naming_the_field(string json, string field)
    {
        var document = JsonSerializer.Deserialize(json.Replace('\'', '"'), AccessPolicyJson.Default.AccessPolicyDocument)!;

        Assert.False(AccessPolicyCompiler.TryCompile(document, AccessPolicyTests.Sets, out var rules, out var error));

        Assert.NotNull(error);
        Assert.Equal(field, error.Field);
        Assert.True(rules.IsEmpty);
    }

    [Theory]
    [InlineData("{'rules':[{'name':'a','effect':'allow','sourceIP':['10.0.0.0/8']}]}")]
    [InlineData("{'rules':[{'name':'a','effect':'allow','region':['eea']}]}")]
    [InlineData("{'rules':[],'version':2}")]
    public void Unknown_fields_are_refused_when_the_document_is_read(string json)
    {
        var e = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(json.Replace('\'', '"'), AccessPolicyJson.Default.AccessPolicyDocument));
        Assert.NotNull(e.Path);
    }

    [Fact]
    public void An_empty_rule_list_compiles_to_no_rules()
    {
        var rules = AccessPolicyTests.Compile("{'rules':[]}");
        Assert.True(rules.IsEmpty);
    }

    [Theory]
    [InlineData("eea", false)]
    [InlineData("eu-adequacy", false)]
    [InlineData("my-regions", true)]
    [InlineData("eu-west-1", false)]
    [InlineData("Upper", false)]
    [InlineData("", false)]
    public void User_region_set_names_are_neither_built_ins_nor_region_names(string name, bool valid)
    {
        Assert.Equal(valid, RegionSets.IsValidSetName(name, out var error));
        Assert.Equal(valid, error.Length == 0);
    }
}
