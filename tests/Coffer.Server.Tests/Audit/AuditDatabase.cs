using System.Net;
using System.Text.Json.Nodes;
using Coffer.Server.Tests.Management;
using Coffer.Testing;
using Microsoft.Data.Sqlite;

namespace Coffer.Server.Tests.Audit;

/// <summary>
/// The node's real SQLite file, opened beside the running server the way an editor with file access
/// would (no pooling, so nothing of the test lingers in the server's process-wide pool).
/// </summary>
internal sealed class AuditDatabase(DevServer node) : IDisposable
{
    private readonly SqliteConnection _connection = Open(node);

    public static string PathOf(DevServer node) => Path.Combine(node.DataDirectory, "coffer.db");

    public SqliteConnection Connection => _connection;

    public int Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteNonQuery();
    }

    public long Scalar(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Every column of every audit record and checkpoint as text (blobs in hex).</summary>
    public string DumpAll()
    {
        var text = new System.Text.StringBuilder();
        foreach (var table in new[] { "audit_records", "audit_checkpoints" })
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT * FROM " + table;
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    var value = reader.GetValue(i);
                    text.Append(value is byte[] bytes ? Convert.ToHexString(bytes) : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)).Append('|');
                }

                text.AppendLine();
            }
        }

        return text.ToString();
    }

    public void Dispose() => _connection.Dispose();

    private static SqliteConnection Open(DevServer node)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = PathOf(node), Pooling = false }.ToString());
        connection.Open();
        return connection;
    }
}

internal static class AuditApi
{
    public static async Task<JsonNode> VerifyAsync(this HttpClient admin)
    {
        using var response = await admin.GetAsync("/api/v1/audit/verify");
        return await response.JsonAsync(HttpStatusCode.OK);
    }

    /// <summary>Every record, oldest first, through the list endpoint's paging.</summary>
    public static async Task<List<JsonNode>> AllRecordsAsync(this HttpClient admin, string filter = "")
    {
        var records = new List<JsonNode>();
        string? before = null;
        do
        {
            var query = "limit=2" + filter + (before is null ? "" : "&before=" + before);
            var page = await admin.GetJsonAsync("/api/v1/audit/records?" + query);
            records.AddRange(page["records"]!.AsArray().Select(r => r!));
            before = page["next"]?.ToString();
        }
        while (before is not null);

        records.Reverse();
        return records;
    }
}
