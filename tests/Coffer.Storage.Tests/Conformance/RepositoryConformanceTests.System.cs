namespace Coffer.Storage.Tests.Conformance;

public abstract partial class RepositoryConformanceTests
{
    [Fact]
    public async Task A_missing_setting_reads_as_null()
    {
        Assert.Null(await SystemRepository.GetSettingAsync("seal.kind"));
    }

    [Fact]
    public async Task Setting_a_setting_creates_or_replaces_it()
    {
        await SystemRepository.SetSettingAsync("node.id", "a");
        Assert.Equal("a", await SystemRepository.GetSettingAsync("node.id"));

        await SystemRepository.SetSettingAsync("node.id", "b — ü");
        Assert.Equal("b — ü", await SystemRepository.GetSettingAsync("node.id"));

        await SystemRepository.SetSettingAsync("empty", "");
        Assert.Equal("", await SystemRepository.GetSettingAsync("empty"));
    }

    [Fact]
    public async Task Inserting_settings_writes_all_of_them()
    {
        await SystemRepository.InsertSettingsAsync(new Dictionary<string, string>
        {
            ["seal.kind"] = "shamir",
            ["seal.shares"] = "5",
            ["seal.threshold"] = "3",
        });

        Assert.Equal("shamir", await SystemRepository.GetSettingAsync("seal.kind"));
        Assert.Equal("5", await SystemRepository.GetSettingAsync("seal.shares"));
        Assert.Equal("3", await SystemRepository.GetSettingAsync("seal.threshold"));
    }

    [Fact]
    public async Task Inserting_settings_when_one_exists_is_a_conflict_and_writes_none()
    {
        await SystemRepository.SetSettingAsync("seal.shares", "2");

        var conflict = await Assert.ThrowsAsync<ConflictException>(() => SystemRepository.InsertSettingsAsync(new Dictionary<string, string>
        {
            ["seal.kind"] = "shamir",
            ["seal.shares"] = "5",
            ["seal.threshold"] = "3",
        }));

        Assert.Equal("setting 'seal.shares' already exists", conflict.Message);
        Assert.Null(await SystemRepository.GetSettingAsync("seal.kind"));
        Assert.Null(await SystemRepository.GetSettingAsync("seal.threshold"));
        Assert.Equal("2", await SystemRepository.GetSettingAsync("seal.shares"));
    }

    [Fact]
    public async Task Two_concurrent_inits_cannot_both_succeed()
    {
        var settings = new Dictionary<string, string> { ["seal.kind"] = "shamir", ["master.check"] = "abc" };
        var other = await OpenAsync();

        var results = await Task.WhenAll(
            Attempt(() => SystemRepository.InsertSettingsAsync(settings)),
            Attempt(() => other.System.InsertSettingsAsync(settings)),
            Attempt(() => SystemRepository.InsertSettingsAsync(settings)));

        Assert.Equal(1, results.Count(r => r is null));
        Assert.All(results.Where(r => r is not null), r => Assert.IsType<ConflictException>(r));
    }

    [Fact]
    public async Task Replacing_settings_writes_and_deletes_them_all_when_the_expected_ones_hold()
    {
        await SystemRepository.InsertSettingsAsync(new Dictionary<string, string> { ["seal.kind"] = "shamir", ["master.check"] = "abc", ["seal.shamir.sealed"] = "old" });

        await SystemRepository.ReplaceSettingsAsync(
            new Dictionary<string, string> { ["seal.kind"] = "shamir", ["master.check"] = "abc" },
            new Dictionary<string, string?> { ["seal.kind"] = "pkcs11", ["seal.pkcs11.wrapped"] = "new", ["seal.shamir.sealed"] = null });

        Assert.Equal("pkcs11", await SystemRepository.GetSettingAsync("seal.kind"));
        Assert.Equal("new", await SystemRepository.GetSettingAsync("seal.pkcs11.wrapped"));
        Assert.Null(await SystemRepository.GetSettingAsync("seal.shamir.sealed"));
        Assert.Equal("abc", await SystemRepository.GetSettingAsync("master.check"));
    }

    [Fact]
    public async Task Replacing_settings_after_an_expected_one_changed_is_a_conflict_and_writes_none()
    {
        await SystemRepository.InsertSettingsAsync(new Dictionary<string, string> { ["seal.kind"] = "shamir", ["seal.shamir.sealed"] = "changed" });

        var conflict = await Assert.ThrowsAsync<ConflictException>(() => SystemRepository.ReplaceSettingsAsync(
            new Dictionary<string, string> { ["seal.kind"] = "shamir", ["seal.shamir.sealed"] = "old" },
            new Dictionary<string, string?> { ["seal.kind"] = "pkcs11", ["seal.shamir.sealed"] = null }));

        Assert.Equal("setting 'seal.shamir.sealed' changed meanwhile", conflict.Message);
        Assert.Equal("shamir", await SystemRepository.GetSettingAsync("seal.kind"));
        Assert.Equal("changed", await SystemRepository.GetSettingAsync("seal.shamir.sealed"));
    }

    [Fact]
    public async Task Of_two_concurrent_replacements_from_the_same_state_one_fails()
    {
        await SystemRepository.InsertSettingsAsync(new Dictionary<string, string> { ["seal.shamir.sealed"] = "v1" });
        var other = await OpenAsync();
        var expected = new Dictionary<string, string> { ["seal.shamir.sealed"] = "v1" };

        var results = await Task.WhenAll(
            Attempt(() => SystemRepository.ReplaceSettingsAsync(expected, new Dictionary<string, string?> { ["seal.shamir.sealed"] = "a" })),
            Attempt(() => other.System.ReplaceSettingsAsync(expected, new Dictionary<string, string?> { ["seal.shamir.sealed"] = "b" })));

        Assert.Equal(1, results.Count(r => r is null));
        Assert.IsType<ConflictException>(Assert.Single(results, r => r is not null));
        Assert.Contains(await SystemRepository.GetSettingAsync("seal.shamir.sealed"), new[] { "a", "b" });
    }

    [Fact]
    public async Task A_token_round_trips_every_field()
    {
        var plain = NewToken("tok-1", 0x11);
        var full = NewToken("tok-2", 0x22, expiresAt: T0.AddDays(90).AddTicks(5), revokedAt: T0.AddDays(1)) with { Role = "auditor" };

        await SystemRepository.AddTokenAsync(plain);
        await SystemRepository.AddTokenAsync(full);

        AssertSame(plain, await SystemRepository.FindTokenByHashAsync(plain.Hash.ToArray()));
        AssertSame(full, await SystemRepository.FindTokenByHashAsync(full.Hash.ToArray()));
        var listed = await SystemRepository.ListTokensAsync();
        Assert.Equal(2, listed.Count);
        AssertSame(plain, listed.Single(t => t.Id == plain.Id));
        AssertSame(full, listed.Single(t => t.Id == full.Id));
    }

    [Fact]
    public async Task Finding_a_token_by_an_unknown_hash_returns_null()
    {
        await SystemRepository.AddTokenAsync(NewToken("tok-1", 0x11));

        Assert.Null(await SystemRepository.FindTokenByHashAsync(Enumerable.Repeat((byte)0x12, 32).ToArray()));
        Assert.Null(await SystemRepository.FindTokenByHashAsync(Enumerable.Repeat((byte)0x11, 31).ToArray()));
    }

    [Fact]
    public async Task Adding_a_token_with_a_taken_hash_or_id_is_a_conflict()
    {
        await SystemRepository.AddTokenAsync(NewToken("tok-1", 0x11));

        await Assert.ThrowsAsync<ConflictException>(() => SystemRepository.AddTokenAsync(NewToken("tok-2", 0x11)));
        await Assert.ThrowsAsync<ConflictException>(() => SystemRepository.AddTokenAsync(NewToken("tok-1", 0x22)));

        Assert.Single(await SystemRepository.ListTokensAsync());
    }

    [Fact]
    public async Task Revoking_a_token_twice_keeps_the_first_time_and_reports_unchanged()
    {
        var token = NewToken("tok-1", 0x11, role: "auditor");
        await SystemRepository.AddTokenAsync(token);
        var at = T0.AddHours(2).AddTicks(9);

        Assert.Equal(GuardedChange.Done, await SystemRepository.RevokeTokenAsync("tok-1", at));
        Assert.Equal(GuardedChange.Unchanged, await SystemRepository.RevokeTokenAsync("tok-1", at.AddHours(1)));

        var read = await SystemRepository.FindTokenByHashAsync(token.Hash);
        Assert.Equal(at, read!.RevokedAt);
        Assert.False(read.IsValidAt(T0));
    }

    [Fact]
    public async Task Revoking_a_missing_token_reports_unchanged()
    {
        Assert.Equal(GuardedChange.Unchanged, await SystemRepository.RevokeTokenAsync("no-such-token", T0));
    }

    private static async Task<Exception?> Attempt(Func<Task> action)
    {
        try
        {
            await action();
            return null;
        }
        catch (Exception exception) when (exception is not Xunit.Sdk.XunitException)
        {
            return exception;
        }
    }
}
