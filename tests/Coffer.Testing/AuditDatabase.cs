using System.Globalization;
using System.Text;
using Coffer.Audit;
using Coffer.Storage;
using Coffer.Storage.Repositories;
using Coffer.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Coffer.Testing;

/// <summary>
/// A node's real SQLite file, opened beside the running server the way an editor with file access
/// and the published format would (no pooling, so nothing of the test lingers in the server's
/// process-wide pool). Records are read and written in the stored form, audit_batches
/// (0016_audit_batches.sql): an edit rewrites the records as batches of one, which that form allows.
/// </summary>
public sealed class AuditDatabase(string path) : IDisposable
{
    private readonly SqliteConnection _connection = Open(path);

    public AuditDatabase(DevServer node)
        : this(PathOf(node))
    {
    }

    public static string PathOf(DevServer node) => Path.Combine(node.DataDirectory, "coffer.db");

    public SqliteConnection Connection => _connection;

    /// <summary>The newest stored record's sequence number (0 for none).</summary>
    public long LastSequence => Scalar("SELECT COALESCE(MAX(last_seq), 0) FROM audit_batches");

    /// <summary>The oldest stored record's sequence number (0 for none).</summary>
    public long FirstSequence => Scalar("SELECT COALESCE(MIN(first_seq), 0) FROM audit_batches");

    public long RecordCount => Records().Count;

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
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>Every stored record, oldest first, exactly as stored.</summary>
    public List<AuditRecord> Records()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT first_seq, time, prev_hash, hashes, records FROM audit_batches ORDER BY first_seq";
        using var reader = command.ExecuteReader();
        var records = new List<AuditRecord>();
        while (reader.Read())
        {
            records.AddRange(AuditBatchBlob.Decode(reader.GetInt64(0), DbValues.ParseTime(reader.GetString(1)),
                (byte[])reader.GetValue(2), (byte[])reader.GetValue(3), (byte[])reader.GetValue(4)));
        }

        return records;
    }

    /// <summary>Replaces every stored record with <paramref name="records"/>, each a batch of its own
    /// that keeps the record's sequence, time, previous hash and hash as given.</summary>
    public void Rewrite(IEnumerable<AuditRecord> records)
    {
        using var transaction = _connection.BeginTransaction(deferred: false);
        Execute("DELETE FROM audit_batches; DELETE FROM audit_batch_keys;");
        foreach (var record in records)
        {
            var (bodies, hashes) = AuditBatchBlob.Encode([record]);
            using var insert = _connection.CreateCommand();
            insert.CommandText = "INSERT INTO audit_batches (first_seq, last_seq, time, prev_hash, hashes, records) VALUES ($seq, $seq, $time, $prev, $hashes, $records);" +
                "INSERT OR IGNORE INTO audit_batch_keys (key_id, first_seq) SELECT $key, $seq WHERE $key IS NOT NULL";
            insert.Parameters.AddWithValue("$seq", record.Sequence);
            insert.Parameters.AddWithValue("$time", DbValues.Time(record.Time));
            insert.Parameters.AddWithValue("$prev", record.PrevHash);
            insert.Parameters.AddWithValue("$hashes", hashes);
            insert.Parameters.AddWithValue("$records", bodies);
            insert.Parameters.AddWithValue("$key", (object?)record.Event.KeyId ?? DBNull.Value);
            insert.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <summary>Changes the stored fields of record <paramref name="sequence"/>, leaving its hashes as
    /// they were; returns how many records changed (0 or 1).</summary>
    public int Edit(long sequence, Func<AuditEvent, AuditEvent> change)
    {
        var records = Records();
        var index = records.FindIndex(r => r.Sequence == sequence);
        if (index < 0)
        {
            return 0;
        }

        var r = records[index];
        records[index] = new AuditRecord(change(r.Event), r.Sequence, r.Time, r.Node, r.PrevHash, r.Hash);
        Rewrite(records);
        return 1;
    }

    /// <summary>Removes the stored records that match; returns how many went.</summary>
    public int Delete(Func<AuditRecord, bool> match)
    {
        var records = Records();
        var removed = records.RemoveAll(r => match(r));
        Rewrite(records);
        return removed;
    }

    /// <summary>Replaces the stored records blob of the batch that holds record <paramref name="sequence"/>
    /// by what <paramref name="change"/> makes of it; returns that batch's first and last record.</summary>
    public (long First, long Last) ChangeRecordsBlob(long sequence, Func<byte[], byte[]> change)
    {
        using var select = _connection.CreateCommand();
        select.CommandText = "SELECT first_seq, last_seq, records FROM audit_batches WHERE first_seq <= $seq AND last_seq >= $seq";
        select.Parameters.AddWithValue("$seq", sequence);
        long first, last;
        byte[] records;
        using (var reader = select.ExecuteReader())
        {
            if (!reader.Read())
            {
                throw new InvalidOperationException($"no stored batch holds record {sequence}");
            }

            (first, last, records) = (reader.GetInt64(0), reader.GetInt64(1), (byte[])reader.GetValue(2));
        }

        using var update = _connection.CreateCommand();
        update.CommandText = "UPDATE audit_batches SET records = $records WHERE first_seq = $first";
        update.Parameters.AddWithValue("$records", change(records));
        update.Parameters.AddWithValue("$first", first);
        update.ExecuteNonQuery();
        return (first, last);
    }

    /// <summary>Every stored audit row as text: each batch's records blob unpacked, as UTF-8 (so any text a
    /// record holds appears as written), every other value in hex; then the checkpoints.</summary>
    public string DumpAll()
    {
        var text = new StringBuilder();
        foreach (var table in new[] { "audit_batches", "audit_batch_keys", "audit_checkpoints" })
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT * FROM " + table;
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    var value = reader.GetValue(i);
                    text.Append(value switch
                    {
                        byte[] bytes when reader.GetName(i) == "records" => Encoding.UTF8.GetString(AuditBatchBlob.Unpack(bytes, int.MaxValue / 100_000) ?? bytes),
                        byte[] bytes => Convert.ToHexString(bytes),
                        _ => Convert.ToString(value, CultureInfo.InvariantCulture),
                    }).Append('|');
                }

                text.AppendLine();
            }
        }

        return text.ToString();
    }

    public void Dispose() => _connection.Dispose();

    private static SqliteConnection Open(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }
}
