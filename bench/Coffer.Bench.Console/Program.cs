using System.Diagnostics;
using System.Globalization;
using Coffer.Audit;
using Coffer.Storage.Sqlite;
using Coffer.Testing;
using Microsoft.Playwright;

// Coffer.Bench.Console [--records 1000000] [--samples 20] [--dir /tmp]
//
// The web console's speed (docs/console.md, "Speed"): a real node whose audit log holds --records XKS
// records (filled through the storage layer while it is stopped, as the audit store benches fill theirs),
// Debian's Chromium driven by Playwright on loopback, logged in through the page. Measured in the page
// (performance.now(), from the click to the frame after the new content is in the view):
// the Overview opened from the menu, the Overview loaded afresh (from the navigation's start to its
// tables) beside a static file loaded the same way (the floor), and the audit page's Next page without
// a filter and with one.
var records = long.Parse(Arg("--records", "1000000"), CultureInfo.InvariantCulture);
var samples = int.Parse(Arg("--samples", "20"), CultureInfo.InvariantCulture);
var root = Arg("--dir", Path.GetTempPath());
if (records < 0 || samples < 2 || !Directory.Exists(root))
{
    Console.Error.WriteLine("usage: Coffer.Bench.Console [--records N >= 0] [--samples N >= 2] [--dir EXISTING_DIRECTORY]");
    return 2;
}

var dir = Directory.CreateDirectory(Path.Combine(root, "coffer-console-bench-" + Guid.NewGuid().ToString("N"))).FullName;
try
{
    // The demo key store, key and token are made at the first start; the log is filled while no node runs.
    await (await DevServer.StartAsync(dataDirectory: dir)).DisposeAsync();
    var fill = Stopwatch.StartNew();
    using (var storage = await SqliteStorage.OpenAsync(Path.Combine(dir, "coffer.db")))
    {
        var head = await storage.Audit.GetHeadAsync();
        var start = DateTimeOffset.UtcNow;
        // 20 records a millisecond: the whole fill is stamped within a minute from its start, so in the past by its end.
        await AuditFill.AppendAsync(storage.Audit, head, records, 100, at => start.AddTicks((at - head.Sequence) * 500), null);
    }

    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    var filled = fill.Elapsed;
    await using var node = await DevServer.StartAsync(dataDirectory: dir);
    using var playwright = await Playwright.CreateAsync();
    await using var chromium = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = Environment.GetEnvironmentVariable("COFFER_CHROMIUM") ?? "/usr/bin/chromium",
        Headless = true,
        Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    var page = await chromium.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
    var consoleUrl = node.Server.AdminUrl + "console/";
    await page.GotoAsync(consoleUrl);
    await page.GetByLabel("Management token").FillAsync(node.Info.AdminToken);
    await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
    await page.Locator("#part-pending-approvals").WaitForAsync();

    // Painted: every part of the Overview is in but the refused calls, whose search may read far back
    // on a large log (docs/console.md, "Speed"); complete: that one too.
    const string painted = "#view:has(#part-nodes):not(:has(section:not([aria-labelledby='part-refused-calls']) .loading))";
    const string complete = "#view:has(#part-nodes):not(:has(.loading))";
    var fromMenu = new List<double>();
    var fromMenuComplete = new List<double>();
    var loaded = new List<double>();
    var loadedComplete = new List<double>();
    var floor = new List<double>();
    for (var i = 0; i < samples; i++)
    {
        // The floor of a fresh load on this machine at this moment: a static file of the same listener,
        // no script, timed the same way.
        floor.Add((await LoadedAsync(page, consoleUrl + "console.css", ["body"]))[0]);
        var fresh = await LoadedAsync(page, consoleUrl + "#/overview", [painted, complete]);
        loaded.Add(fresh[0]);
        loadedComplete.Add(fresh[1]);

        await page.GetByRole(AriaRole.Link, new() { Name = "Keys", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Keys", Exact = true }).WaitForAsync();
        var menu = await TimedClickAsync(page, "#nav a[href='#/overview']", [painted, complete], null);
        fromMenu.Add(menu[0]);
        fromMenuComplete.Add(menu[1]);
    }

    var unfiltered = await PagesAsync(page, consoleUrl + "#/audit", samples);
    var filtered = await PagesAsync(page, consoleUrl + "#/audit?region=us-east-1", samples);

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"# Coffer web console speed — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} CPU(s), load average at the end {LoadAverage()}"));
    Console.WriteLine();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"A node on loopback (SQLite) whose audit log holds {records:N0} more XKS records (filled in {filled.TotalSeconds:0} s, commits of 100, 1 in 50 from us-east-1), headless Chromium, {samples} samples each."));
    Console.WriteLine();
    Console.WriteLine("| what | goal | median ms | p95 ms | max ms |");
    Console.WriteLine("|---|---:|---:|---:|---:|");
    Row("Overview opened from the menu (click to every part painted but refused calls)", "300", fromMenu);
    Row("Overview opened from the menu, refused calls in too", "—", fromMenuComplete);
    Row("Overview loaded afresh (navigation start to every part painted but refused calls; page, modules, session check)", "300", loaded);
    Row("Overview loaded afresh, refused calls in too", "—", loadedComplete);
    Row("Floor: a static file of the same listener loaded afresh (no script), same clock", "—", floor);
    Row("Audit, Next page (click to the new rows painted), no filter", "200", unfiltered);
    Row("Audit, Next page, filtered by region us-east-1 (1 in 50)", "200", filtered);
    return 0;
}
finally
{
    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    Directory.Delete(dir, recursive: true);
}

// Opens the audit page at address, then times `samples` clicks on Next page.
static async Task<List<double>> PagesAsync(IPage page, string address, int samples)
{
    await page.GotoAsync(address);
    await page.Locator("#view table tbody tr a").First.WaitForAsync();
    var times = new List<double>();
    for (var i = 0; i < samples; i++)
    {
        var first = await page.Locator("#view table tbody tr a").First.TextContentAsync();
        times.Add((await TimedClickAsync(page, "#view a[rel='next']", ["#view table tbody tr a"], first))[0]);
    }

    return times;
}

// Clicks `click` in the page and waits there until each selector of `done` finds a node with a text other
// than `old`, then for the next frame (the one that paints it): milliseconds to each, by the page's own
// clock, so no driver round trip counts.
static async Task<double[]> TimedClickAsync(IPage page, string click, string[] done, string? old) =>
    await page.EvaluateAsync<double[]>("""
        async ([click, done, old]) => {
          const changed = (selector) => { const n = document.querySelector(selector); return n !== null && n.textContent !== old; };
          const start = performance.now();
          const painted = () => new Promise((resolve) => requestAnimationFrame(() => resolve(performance.now() - start)));
          const seen = done.map((selector) => new Promise((resolve) => {
            const observer = new MutationObserver(() => { if (changed(selector)) { observer.disconnect(); resolve(painted()); } });
            observer.observe(document.getElementById('view'), { childList: true, subtree: true });
          }));
          document.querySelector(click).click();
          return Promise.all(seen);
        }
        """, new object?[] { click, done, old });

// Loads address afresh and returns, for each selector of done, when the page painted the frame after
// it first matched, in ms since the navigation started (the page's performance.now()): the browser's
// own clock, so no driver round trip counts.
static async Task<double[]> LoadedAsync(IPage page, string address, string[] done)
{
    await page.GotoAsync("about:blank");
    await page.GotoAsync(address, new PageGotoOptions { WaitUntil = WaitUntilState.Commit });
    return await page.EvaluateAsync<double[]>("""
        (done) => Promise.all(done.map((selector) => new Promise((resolve) => {
          const painted = () => requestAnimationFrame(() => resolve(performance.now()));
          if (document.querySelector(selector) !== null) { painted(); return; }
          const observer = new MutationObserver(() => { if (document.querySelector(selector) !== null) { observer.disconnect(); painted(); } });
          observer.observe(document, { childList: true, subtree: true, attributes: true });
        })))
        """, done);
}

static void Row(string name, string goal, List<double> times)
{
    times.Sort();
    var median = (times[(times.Count - 1) / 2] + times[times.Count / 2]) / 2;
    var p95 = times[(int)Math.Ceiling(0.95 * times.Count) - 1];
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {goal} | {median:0} | {p95:0} | {times[^1]:0} |"));
}

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

string Arg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}
