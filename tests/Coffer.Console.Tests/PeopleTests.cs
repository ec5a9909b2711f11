using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Coffer.Testing;
using Microsoft.Playwright;

namespace Coffer.Console.Tests;

/// <summary>
/// Managing identities on the People page in a real browser (docs/console.md, "People and alerts"): an
/// app made with a role limited to one key store and a group, edited, and disabled; a custom role made
/// from permissions, given to a user, refused deletion while held and deleted once not; each checked
/// against what the server holds. A role without identities.write sees none of the controls.
/// </summary>
public sealed partial class PeopleTests(Browser browser, SharedNode shared) : IClassFixture<Browser>, IClassFixture<SharedNode>
{
    private DevServer Node => shared.Node;

    [Fact]
    public Task An_app_is_created_with_a_key_store_grant_and_a_group_then_edited_and_disabled() =>
        browser.RunAsync(nameof(An_app_is_created_with_a_key_store_grant_and_a_group_then_edited_and_disabled), async page =>
        {
            var storeName = Unique("billing");
            var storeId = (string)(await AdminCalls.SendAsync(Node, HttpMethod.Post, "/api/v1/keystores", new { name = storeName, uriPrefix = "/" + storeName }))["id"]!;
            var name = Unique("invoicer");
            var dialogs = new List<string>();
            page.Dialog += (_, dialog) =>
            {
                dialogs.Add(dialog.Message);
                _ = dialog.AcceptAsync();
            };
            await OpenPeopleAsync(page);

            // The form opens in place with the focus in it; Cancel closes it and gives the focus back.
            var newApp = page.GetByRole(AriaRole.Button, new() { Name = "New app" });
            await newApp.ClickAsync();
            await Assertions.Expect(page.GetByLabel("Name", new() { Exact = true })).ToBeFocusedAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Form, new() { Name = "New app" })).ToHaveCountAsync(0);
            await Assertions.Expect(newApp).ToBeFocusedAsync();
            await newApp.ClickAsync();
            await page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
            await page.GetByLabel("Role 1", new() { Exact = true }).SelectOptionAsync("key-officer");
            await page.GetByLabel("Key store for role 1").SelectOptionAsync(new SelectOptionValue { Label = storeName });
            await Browser.AssertAccessibleAsync(page);

            // A group the server refuses: its problem is told at the form, and no app is made.
            await page.GetByLabel("Groups (comma separated)").FillAsync("Night Shift");
            await page.GetByRole(AriaRole.Button, new() { Name = "Create app" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Form, new() { Name = "New app" }).GetByRole(AriaRole.Alert)).ToContainTextAsync("Group 'Night Shift' is not a valid name");
            Assert.Null(await FindAsync("apps", name));

            await page.GetByLabel("Groups (comma separated)").FillAsync("payments");
            await page.GetByRole(AriaRole.Button, new() { Name = "Create app" }).ClickAsync();
            var row = page.GetByRole(AriaRole.Table, new() { Name = "Apps" }).GetByRole(AriaRole.Row).Filter(new() { HasText = name });
            await Assertions.Expect(row).ToContainTextAsync($"key-officer@{storeId}");
            await Assertions.Expect(row).ToContainTextAsync("payments");
            await Assertions.Expect(row).ToContainTextAsync("enabled");
            var app = (await FindAsync("apps", name))!;
            Assert.Equal([("key-officer", storeId)], Grants(app));
            Assert.Equal(["payments"], Groups(app));
            await Browser.AssertAccessibleAsync(page);

            // Edit: the role on every key store instead, a second role, a second group.
            await page.GetByRole(AriaRole.Button, new() { Name = $"Edit {name}" }).ClickAsync();
            var edit = page.GetByRole(AriaRole.Form, new() { Name = $"Edit app {name}" });
            await Assertions.Expect(edit.GetByLabel("Key store for role 1")).ToHaveValueAsync(storeId);
            await edit.GetByLabel("Role 1", new() { Exact = true }).SelectOptionAsync("auditor");
            await edit.GetByLabel("Key store for role 1").SelectOptionAsync(new SelectOptionValue { Label = "Every key store" });
            await edit.GetByRole(AriaRole.Button, new() { Name = "Add a role" }).ClickAsync();
            await Assertions.Expect(edit.GetByLabel("Role 2", new() { Exact = true })).ToBeFocusedAsync();
            await edit.GetByLabel("Role 2", new() { Exact = true }).SelectOptionAsync("operator");
            await edit.GetByLabel("Groups (comma separated)").FillAsync("payments, night-shift");
            await Browser.AssertAccessibleAsync(page);
            await edit.GetByRole(AriaRole.Button, new() { Name = "Save app" }).ClickAsync();
            await Assertions.Expect(row).ToContainTextAsync("auditor, operator");
            await Assertions.Expect(row).ToContainTextAsync("payments, night-shift");
            app = (await FindAsync("apps", name))!;
            Assert.Equal([("auditor", null), ("operator", null)], Grants(app));
            Assert.Equal(["payments", "night-shift"], Groups(app));

            // Disable: the confirmation names who loses access; then the app is disabled for good.
            await page.GetByRole(AriaRole.Button, new() { Name = $"Disable {name}" }).ClickAsync();
            await Assertions.Expect(row).ToContainTextAsync("disabled");
            Assert.Contains(dialogs, d => d.Contains($"Disable the app {name} ({(string)app["id"]!})", StringComparison.Ordinal) && d.Contains("loses access", StringComparison.Ordinal));
            await Assertions.Expect(row.GetByRole(AriaRole.Button)).ToHaveCountAsync(0);
            Assert.NotNull((await FindAsync("apps", name))!["disabledAt"]);
        });

    [Fact]
    public Task A_custom_role_is_made_from_permissions_given_to_a_user_and_deleted_only_once_no_one_holds_it() =>
        browser.RunAsync(nameof(A_custom_role_is_made_from_permissions_given_to_a_user_and_deleted_only_once_no_one_holds_it), async page =>
        {
            var role = Unique("ledger");
            var user = Unique("reader");
            page.Dialog += (_, dialog) => dialog.AcceptAsync();
            await OpenPeopleAsync(page);
            var roles = page.GetByRole(AriaRole.Table, new() { Name = "Roles and their permissions" });
            foreach (var builtIn in new[] { "administrator", "key-officer", "approver", "auditor", "operator" })
            {
                await Assertions.Expect(roles.GetByRole(AriaRole.Button, new() { Name = $"Edit {builtIn}" })).ToHaveCountAsync(0);
                await Assertions.Expect(roles.GetByRole(AriaRole.Button, new() { Name = $"Delete {builtIn}" })).ToHaveCountAsync(0);
            }

            // The choices are every permission there is, as the server names them (administrator holds them all).
            await page.GetByRole(AriaRole.Button, new() { Name = "New role" }).ClickAsync();
            var form = page.GetByRole(AriaRole.Form, new() { Name = "New role" });
            var every = (await AdminCalls.GetAsync(Node, "/api/v1/roles/administrator"))["permissions"]!.AsArray().Select(p => (string)p!).ToList();
            Assert.Equal(every, await form.GetByRole(AriaRole.Checkbox).EvaluateAllAsync<string[]>("boxes => boxes.map(b => b.value)"));

            // No permission ticked: the server's refusal is told at the form, and no role is made.
            await form.GetByLabel("Role name").FillAsync(role);
            await form.GetByLabel("Description").FillAsync("Reads keys and the audit log");
            await form.GetByRole(AriaRole.Button, new() { Name = "Save role" }).ClickAsync();
            await Assertions.Expect(form.GetByRole(AriaRole.Alert)).ToContainTextAsync("permissions is a non-empty list");
            Assert.Equal(HttpStatusCode.NotFound, await StatusAsync($"/api/v1/roles/{role}"));

            await form.GetByLabel("keys.read", new() { Exact = true }).CheckAsync();
            await form.GetByLabel("audit.read", new() { Exact = true }).CheckAsync();
            await Browser.AssertAccessibleAsync(page);
            await form.GetByRole(AriaRole.Button, new() { Name = "Save role" }).ClickAsync();
            var row = roles.GetByRole(AriaRole.Row).Filter(new() { HasText = role });
            await Assertions.Expect(row).ToContainTextAsync("custom");
            await Assertions.Expect(row).ToContainTextAsync("audit.read, keys.read");
            var stored = await AdminCalls.GetAsync(Node, $"/api/v1/roles/{role}");
            Assert.Equal(["audit.read", "keys.read"], stored["permissions"]!.AsArray().Select(p => (string)p!));
            Assert.Equal("Reads keys and the audit log", (string)stored["description"]!);
            Assert.False((bool)stored["builtIn"]!);

            // Replaced: the form holds what the role has, and a third permission is added.
            await page.GetByRole(AriaRole.Button, new() { Name = $"Edit {role}" }).ClickAsync();
            var edit = page.GetByRole(AriaRole.Form, new() { Name = $"Edit role {role}" });
            await Assertions.Expect(edit.GetByLabel("Description")).ToHaveValueAsync("Reads keys and the audit log");
            await Assertions.Expect(edit.GetByLabel("keys.read", new() { Exact = true })).ToBeCheckedAsync();
            await Assertions.Expect(edit.GetByLabel("keys.write", new() { Exact = true })).Not.ToBeCheckedAsync();
            await edit.GetByLabel("metrics.read", new() { Exact = true }).CheckAsync();
            await edit.GetByRole(AriaRole.Button, new() { Name = "Save role" }).ClickAsync();
            await Assertions.Expect(row).ToContainTextAsync("audit.read, keys.read, metrics.read");
            Assert.Equal(["audit.read", "keys.read", "metrics.read"],
                (await AdminCalls.GetAsync(Node, $"/api/v1/roles/{role}"))["permissions"]!.AsArray().Select(p => (string)p!));

            // Given to a user made in the page.
            await page.GetByRole(AriaRole.Button, new() { Name = "New user" }).ClickAsync();
            await page.GetByLabel("Name", new() { Exact = true }).FillAsync(user);
            await page.GetByLabel("Role 1", new() { Exact = true }).SelectOptionAsync(role);
            await page.GetByRole(AriaRole.Button, new() { Name = "Create user" }).ClickAsync();
            var userRow = page.GetByRole(AriaRole.Table, new() { Name = "Users" }).GetByRole(AriaRole.Row).Filter(new() { HasText = user });
            await Assertions.Expect(userRow).ToContainTextAsync(role);
            Assert.Equal([(role, null)], Grants((await FindAsync("users", user))!));

            // Held, so the server refuses its deletion, and the page says why.
            await page.GetByRole(AriaRole.Button, new() { Name = $"Delete {role}" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Alert).Filter(new() { HasText = $"Role '{role}' is still held by" })).ToBeVisibleAsync();
            Assert.Equal(HttpStatusCode.OK, await StatusAsync($"/api/v1/roles/{role}"));
            await Browser.AssertAccessibleAsync(page);

            // Taken from the user, it is deleted.
            await page.GetByRole(AriaRole.Button, new() { Name = $"Edit {user}" }).ClickAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Remove role 1" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Add a role" })).ToBeFocusedAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Save user" }).ClickAsync();
            await Assertions.Expect(userRow).Not.ToContainTextAsync(role);
            Assert.Empty(Grants((await FindAsync("users", user))!));
            await page.GetByRole(AriaRole.Button, new() { Name = $"Delete {role}" }).ClickAsync();
            await Assertions.Expect(row).ToHaveCountAsync(0);
            Assert.Equal(HttpStatusCode.NotFound, await StatusAsync($"/api/v1/roles/{role}"));
        });

    [Fact]
    public Task A_role_without_identities_write_sees_the_lists_and_no_control_that_changes_them() =>
        browser.RunAsync(nameof(A_role_without_identities_write_sees_the_lists_and_no_control_that_changes_them), async page =>
        {
            var name = Unique("watched");
            await AdminCalls.SendAsync(Node, HttpMethod.Post, "/api/v1/apps", new { name, roles = new[] { new { role = "auditor" } } });
            await Pages.LogInAsync(page, Node, await AdminCalls.TokenAsync(Node, "auditor"));
            await page.GetByRole(AriaRole.Link, new() { Name = "People" }).ClickAsync();
            var apps = page.GetByRole(AriaRole.Table, new() { Name = "Apps" });
            var roles = page.GetByRole(AriaRole.Table, new() { Name = "Roles and their permissions" });
            await Assertions.Expect(apps).ToContainTextAsync(name);
            await Assertions.Expect(roles).ToContainTextAsync("key-officer");

            await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { NameRegex = IdentityControl() })).ToHaveCountAsync(0);
            await Assertions.Expect(apps.GetByRole(AriaRole.Columnheader, new() { Name = "Actions" })).ToHaveCountAsync(0);
            await Assertions.Expect(roles.GetByRole(AriaRole.Columnheader, new() { Name = "Actions" })).ToHaveCountAsync(0);
            await Browser.AssertAccessibleAsync(page);
        });

    private async Task OpenPeopleAsync(IPage page)
    {
        await Pages.LogInAsync(page, Node);
        await page.GetByRole(AriaRole.Link, new() { Name = "People" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "People" })).ToBeVisibleAsync();
    }

    /// <summary>The user or app of that name as the server holds it, or null.</summary>
    private async Task<JsonNode?> FindAsync(string kind, string name) =>
        (await AdminCalls.GetAsync(Node, $"/api/v1/{kind}")).AsArray().SingleOrDefault(p => (string?)p!["name"] == name);

    private async Task<HttpStatusCode> StatusAsync(string path)
    {
        using var response = await Node.Admin.GetAsync(path);
        return response.StatusCode;
    }

    private static List<(string Role, string? KeyStoreId)> Grants(JsonNode principal) =>
        [.. principal["roles"]!.AsArray().Select(g => ((string)g!["role"]!, (string?)g["keyStoreId"]))];

    private static List<string> Groups(JsonNode principal) => [.. principal["groups"]!.AsArray().Select(g => (string)g!)];

    /// <summary>A name of its own, so tests on the shared node stay apart.</summary>
    private static string Unique(string stem) => $"{stem}-{Guid.NewGuid():N}"[..(stem.Length + 9)];

    [GeneratedRegex("^(New (user|app|role)|Edit |Disable |Delete |Add a role|Remove role)")]
    private static partial Regex IdentityControl();
}
