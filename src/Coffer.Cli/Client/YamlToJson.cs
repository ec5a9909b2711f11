using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Coffer.Cli.Client;

/// <summary>
/// Rule documents may be written in YAML: the CLI turns one YAML document into the JSON the
/// API takes, so the server validates one format. Plain scalars follow the YAML 1.2 core schema (null,
/// true/false, integers and decimals are typed); quoted scalars stay strings.
/// </summary>
internal static class YamlToJson
{
    public static bool IsYaml(FileInfo file) =>
        file.Extension.Equals(".yaml", StringComparison.OrdinalIgnoreCase) || file.Extension.Equals(".yml", StringComparison.OrdinalIgnoreCase);

    /// <exception cref="CliException">Not one well-formed YAML document (the message says where).</exception>
    public static string Convert(string yaml, string name)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new CliException($"{name} is not valid YAML: {e.Message}", CliException.Usage);
        }

        if (stream.Documents.Count != 1)
        {
            throw new CliException($"{name} must hold exactly one YAML document.", CliException.Usage);
        }

        return (Node(stream.Documents[0].RootNode)?.ToJsonString()) ?? "null";
    }

    private static JsonNode? Node(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(p => KeyValuePair.Create(Key(p.Key), Node(p.Value)))),
        YamlSequenceNode list => new JsonArray([.. list.Children.Select(Node)]),
        YamlScalarNode scalar => Scalar(scalar),
        _ => throw new CliException($"YAML aliases and tags other than scalars, maps and lists are not supported (line {node.Start.Line}).", CliException.Usage),
    };

    private static string Key(YamlNode key) =>
        key is YamlScalarNode { Value: { } text } ? text : throw new CliException($"YAML keys must be plain text (line {key.Start.Line}).", CliException.Usage);

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? string.Empty;
        if (scalar.Style != ScalarStyle.Plain)
        {
            return JsonValue.Create(text);
        }

        return text switch
        {
            "" or "~" or "null" or "Null" or "NULL" => null,
            "true" or "True" or "TRUE" => JsonValue.Create(true),
            "false" or "False" or "FALSE" => JsonValue.Create(false),
            _ when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole) => JsonValue.Create(whole),
            _ when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) => JsonValue.Create(number),
            _ => JsonValue.Create(text),
        };
    }
}
