using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Coffer.Storage.Tests.Postgres;

/// <summary>
/// One throwaway PostgreSQL server for the whole test run (Debian's PostgreSQL 15 binaries), started
/// on first use on a free loopback port and stopped when the process exits; each caller gets a fresh
/// database of its own.
/// </summary>
internal static class TestPostgres
{
    private const string Bin = "/usr/lib/postgresql/15/bin";

    private static readonly Lazy<Task<string>> Server = new(StartAsync);

    /// <summary>A new, empty database on the shared server, and its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync()
    {
        var admin = await Server.Value;
        var name = "coffer_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
    }

    private static async Task<string> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "coffer-postgres-" + Guid.NewGuid().ToString("N"));
        var data = Path.Combine(directory, "data");
        Directory.CreateDirectory(directory);
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            // initdb refuses root; the server runs as the postgres user, in a directory it owns.
            await RunAsync("chown", "postgres", directory);
        }

        await RunAsPostgresAsync(asRoot, $"{Bin}/initdb", "-D", data, "-A", "trust", "-U", "coffer", "--no-sync");
        var port = FreePort();
        // fsync off: the tests check Coffer's transactions, not the disk's durability.
        await RunAsPostgresAsync(asRoot, $"{Bin}/pg_ctl", "-D", data, "-w", "-l", Path.Combine(directory, "log"), "-o",
            string.Create(CultureInfo.InvariantCulture, $"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"), "start");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            RunAsPostgresAsync(asRoot, $"{Bin}/pg_ctl", "-D", data, "-m", "immediate", "stop").GetAwaiter().GetResult();
            Directory.Delete(directory, recursive: true);
        };
        return string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={port};Username=coffer;Database=postgres;Pooling=false");
    }

    private static Task RunAsPostgresAsync(bool asRoot, string program, params string[] arguments) =>
        asRoot ? RunAsync("runuser", ["-u", "postgres", "--", program, .. arguments]) : RunAsync(program, arguments);

    private static async Task RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed ({process.ExitCode}): {await error}{await output}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
