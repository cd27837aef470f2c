using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Net;
using Npgsql;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Issue 16, items 1 and 6: the shared markets have one writer (importing is an operator right), imported rows lie
/// between 2009 and now, imports are bounded per plan (at a time, bytes per UTC day), uploads leave no files behind,
/// and imported history lives in its own stream, which refuses rather than evicts when full.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class ImportSafetyTests(SystemFixture system)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private const string TwoRowsIn2100 = "1,1,1,1,4102444800000,true,true\n2,1,1,1,4102444860000,true,true\n";

    private static (string Symbol, string Base) FreshSymbol()
    {
        var letters = new string([.. RandomNumberGenerator.GetBytes(6).Select(x => (char)('A' + x % 26))]);
        return ("S" + letters + "USDT", "S" + letters);
    }

    /// <summary>Binance aggTrades rows: id, price, quantity, first and last trade id, time (ms), buyer maker, best match.</summary>
    private static string Rows(int count, long firstMs) =>
        string.Concat(Enumerable.Range(1, count).Select(i => $"{i},100.5,0.25,{i},{i},{firstMs + i * 1000},true,true\n"));

    [Fact]
    public async Task A_free_user_cannot_import_into_a_shared_market_and_the_public_klines_show_nothing_from_it()
    {
        var (_, _, client) = await system.CreateUserAsync();

        using var response = await client.PostAsync("/api/v1/imports?exchange=binance&symbol=BTCUSDT&format=binance-trades", new StringContent(TwoRowsIn2100));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("operator", problem.GetProperty("right").GetString());
        Assert.EndsWith("/operator-right", problem.GetProperty("type").GetString());
        var klines = await system.Gateway.GetFromJsonAsync<JsonElement>("/api/v1/markets/binance/BTCUSDT/klines?interval=1m&limit=5");
        Assert.All(klines.EnumerateArray(), k => Assert.True(k.GetProperty("openTime").GetDateTimeOffset() < DateTimeOffset.UtcNow.AddMinutes(1)));
    }

    [Fact]
    public async Task The_account_reports_whether_it_is_an_operator()
    {
        var (_, _, user) = await system.CreateUserAsync();
        var (_, _, op) = await system.CreateOperatorAsync();
        Assert.False((await user.GetFromJsonAsync<JsonElement>("/api/v1/accounts/me")).GetProperty("operator").GetBoolean());
        Assert.True((await op.GetFromJsonAsync<JsonElement>("/api/v1/accounts/me")).GetProperty("operator").GetBoolean());
    }

    [Fact]
    public async Task An_operators_file_with_a_row_after_now_is_refused_naming_the_row_and_leaves_no_file()
    {
        var (_, _, op) = await system.CreateOperatorAsync();
        var (symbol, b) = FreshSymbol();
        var body = Rows(3, 1617566591985) + "4,1,1,4,4,4102444800000,true,true\n";
        var before = UploadFiles().ToHashSet();

        using var response = await op.PostAsync($"/api/v1/imports?exchange=binance&symbol={symbol}&format=binance-aggtrades&base={b}&quote=USDT", new StringContent(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("body", problem.GetProperty("field").GetString());
        Assert.Equal(4, problem.GetProperty("line").GetInt64());
        Assert.Contains("2100-01-01", problem.GetProperty("detail").GetString());
        Assert.Empty(UploadFiles().Except(before));
    }

    [Fact]
    public async Task An_operators_file_with_a_row_before_2009_is_refused_naming_the_row()
    {
        var (_, _, op) = await system.CreateOperatorAsync();
        var (symbol, b) = FreshSymbol();
        var body = "1,1,1,1,1199145600000,true,true\n";

        using var response = await op.PostAsync($"/api/v1/imports?exchange=binance&symbol={symbol}&format=binance-trades&base={b}&quote=USDT", new StringContent(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, problem.GetProperty("line").GetInt64());
        Assert.Contains("2008-01-01", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_second_import_while_the_first_uploads_is_refused_by_the_plans_concurrent_imports()
    {
        var (_, _, op) = await system.CreateOperatorAsync();
        var (symbol, b) = FreshSymbol();
        var url = $"/api/v1/imports?exchange=binance&symbol={symbol}&format=binance-aggtrades&base={b}&quote=USDT";
        var release = new TaskCompletionSource();
        var slow = new SlowContent(Encoding.UTF8.GetBytes(Rows(5, 1617566591985)), release.Task);

        // Another test's import may still be finishing (an import waits for its klines), its file still there: this
        // waits for the first upload's own file.
        var before = UploadFiles().ToHashSet();
        var first = op.PostAsync(url, slow);
        await Eventually.SucceedsAsync(() => { Assert.NotEmpty(UploadFiles().Except(before)); return Task.CompletedTask; }, Wait);
        using (var second = await op.PostAsync(url, new StringContent(Rows(1, 1617566591985))))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
            var problem = await second.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("ConcurrentImports", problem.GetProperty("limit").GetString());
        }

        release.SetResult();
        using var accepted = await first;
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
    }

    [Fact]
    public async Task An_upload_past_the_days_bytes_is_cut_off_naming_the_limit_and_the_usage_is_kept_in_the_database()
    {
        var (userId, _, op) = await system.CreateOperatorAsync();
        var limit = (await op.GetFromJsonAsync<JsonElement>("/api/v1/accounts/me")).GetProperty("limits").GetProperty("importBytesPerDay").GetInt64();
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        // Given: all but 100 bytes of today's quota used (as by earlier uploads).
        await using (var used = db.CreateCommand("""
            INSERT INTO import_usage (user_id, day, bytes) VALUES ($1, (now() AT TIME ZONE 'utc')::date, $2)
            ON CONFLICT (user_id, day) DO UPDATE SET bytes = EXCLUDED.bytes
            """))
        {
            used.Parameters.Add(new() { Value = userId });
            used.Parameters.Add(new() { Value = limit - 100 });
            await used.ExecuteNonQueryAsync();
        }

        var (symbol, b) = FreshSymbol();
        var url = $"/api/v1/imports?exchange=binance&symbol={symbol}&format=binance-aggtrades&base={b}&quote=USDT";
        var rows = Encoding.UTF8.GetBytes(Rows(20, 1617566591985));

        // A declared length that does not fit, and a streamed one (no length) cut off when it passes the quota.
        var before = UploadFiles().ToHashSet();
        using var declared = await op.PostAsync(url, new ByteArrayContent(rows));
        using var streamed = await op.PostAsync(url, new SlowContent(rows, Task.CompletedTask));

        foreach (var response in new[] { declared, streamed })
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
            Assert.NotNull(response.Headers.RetryAfter);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("ImportBytesPerDay", problem.GetProperty("limit").GetString());
        }

        Assert.Empty(UploadFiles().Except(before));
        await using var check = db.CreateCommand("SELECT bytes FROM import_usage WHERE user_id = $1 AND day = (now() AT TIME ZONE 'utc')::date");
        check.Parameters.Add(new() { Value = userId });
        Assert.True((long)(await check.ExecuteScalarAsync())! <= limit);

        // Within what is left, an upload is accepted.
        using var small = await op.PostAsync(url, new StringContent(Rows(1, 1617566591985)));
        Assert.Equal(HttpStatusCode.Accepted, small.StatusCode);
    }

    [Fact]
    public async Task History_has_its_own_stream_that_refuses_when_full_and_live_trades_are_not_evicted()
    {
        await using var nats = new NatsConnection(new NatsOpts { Url = await system.ConnectionStringAsync("nats") });
        var js = nats.CreateJetStreamContext();
        var raw = await js.GetStreamAsync(Streams.MarketRaw().Name!);
        Assert.DoesNotContain(Subjects.MarketHistoryAll, raw.Info.Config.Subjects!);
        var history = await js.GetStreamAsync(Streams.MarketHistory().Name!);
        Assert.Equal(NATS.Client.JetStream.Models.StreamConfigDiscard.New, history.Info.Config.Discard);

        // Given: MARKET_HISTORY with room for ~nothing more.
        var full = system.AsCreatedByServices(Streams.MarketHistory()) with { MaxBytes = (long)history.Info.State.Bytes + 512 };
        await js.UpdateStreamAsync(full);
        var firstLive = (await js.GetStreamAsync(Streams.MarketRaw().Name!)).Info.State.FirstSeq;
        try
        {
            var (_, _, op) = await system.CreateOperatorAsync();
            var (symbol, b) = FreshSymbol();
            using var response = await op.PostAsync($"/api/v1/imports?exchange=binance&symbol={symbol}&format=binance-aggtrades&base={b}&quote=USDT",
                new StringContent(Rows(500, 1617566591985)));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("importId").GetGuid();

            var status = await Eventually.ReturnsAsync(async () =>
            {
                var s = await op.GetFromJsonAsync<JsonElement>($"/api/v1/imports/{id}");
                return s.GetProperty("status").GetString() is "completed" or "failed" ? (object)s : null;
            }, TimeSpan.FromSeconds(120), "the import to end") is JsonElement done ? done : default;

            Assert.Equal("failed", status.GetProperty("status").GetString());
            Assert.Contains("market.history", status.GetProperty("firstError").GetString());
            Assert.Equal(firstLive, (await js.GetStreamAsync(Streams.MarketRaw().Name!)).Info.State.FirstSeq);
        }
        finally
        {
            await js.UpdateStreamAsync(system.AsCreatedByServices(Streams.MarketHistory()));
        }
    }

    [Fact]
    public async Task Uploads_left_by_a_previous_run_are_removed_when_the_ingestor_starts()
    {
        Directory.CreateDirectory(system.ImportUploadDirectory);
        var stale = Path.Combine(system.ImportUploadDirectory, "import-left-by-a-crash.csv");
        await File.WriteAllTextAsync(stale, "1,1,1,1,1617566591985,true,true\n");

        await ResourceControl.RestartAsync(system, "ingestor");

        Assert.False(File.Exists(stale));
    }

    /// <summary>The upload directory's files; another test's import may still hold one while it waits for its klines.</summary>
    private string[] UploadFiles() =>
        Directory.Exists(system.ImportUploadDirectory) ? Directory.GetFiles(system.ImportUploadDirectory) : [];

    /// <summary>A body sent without a length (chunked): its bytes, then held open until <paramref name="release"/>.</summary>
    private sealed class SlowContent(byte[] data, Task release) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var half = data.Length / 2;
            await stream.WriteAsync(data.AsMemory(0, half));
            await stream.FlushAsync();
            await release;
            await stream.WriteAsync(data.AsMemory(half));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
