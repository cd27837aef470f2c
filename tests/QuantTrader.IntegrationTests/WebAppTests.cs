using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// The web app in Chromium against the running system (real gateway, real services): what a person does in the pages
/// reaches the API, and what the API holds is what the pages draw. Each page's screenshot goes to TestResults/ui/.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class WebAppTests(SystemFixture system) : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private AppBrowser _browser = null!;

    public async Task InitializeAsync() => _browser = await AppBrowser.LaunchAsync(system);

    public async Task DisposeAsync() => await _browser.DisposeAsync();

    [Fact]
    public async Task The_gateway_serves_the_app_publicly_with_a_strict_policy_and_caches_only_hashed_assets_for_long()
    {
        using var page = await system.Gateway.GetAsync("/");
        page.EnsureSuccessStatusCode();
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.True(page.Headers.CacheControl?.NoCache, "index.html must be revalidated on every load");
        var policy = string.Join(' ', page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", policy);
        Assert.Contains("script-src 'self';", policy);
        Assert.Contains("style-src 'self';", policy);
        Assert.Contains("frame-ancestors 'none'", policy);
        Assert.DoesNotContain("unsafe-inline", policy);

        var html = await page.Content.ReadAsStringAsync();
        var script = System.Text.RegularExpressions.Regex.Match(html, "/assets/index-[A-Za-z0-9_-]+\\.js").Value;
        Assert.NotEmpty(script);
        Assert.DoesNotContain("<script>", html); // no inline script: the policy would refuse it
        using var asset = await system.Gateway.GetAsync(script);
        asset.EnsureSuccessStatusCode();
        Assert.Equal(TimeSpan.FromDays(365), asset.Headers.CacheControl?.MaxAge);
        Assert.Contains(asset.Headers.CacheControl!.Extensions, e => e.Name == "immutable");

        // The API behind it is unchanged: an account route still needs a key.
        using var orders = await system.Gateway.GetAsync("/api/v1/orders");
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, orders.StatusCode);
    }

    [Fact]
    public async Task Signing_up_in_the_page_shows_a_key_once_that_then_signs_in()
    {
        await using var tab = await _browser.OpenAsync();
        await tab.Page.GotoAsync("/");
        await tab.Page.WaitForSelectorAsync("main[data-page='signin'][data-ready='true']");
        await tab.ScreenshotAsync("signin");

        await tab.Page.GetByLabel("Email", new() { Exact = true }).FillAsync($"web-{Guid.NewGuid():N}@example.com");
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        var key = (await tab.Page.Locator("#new-api-key").TextContentAsync())!.Trim();
        Assert.StartsWith("qt_", key);
        await Expect(tab.Page.GetByRole(AriaRole.Button, new() { Name = "Copy key" })).ToBeVisibleAsync();
        using (var me = await system.ClientWithKey(key).GetAsync("/api/v1/accounts/me"))
        {
            me.EnsureSuccessStatusCode();
        }
        Assert.Equal(key, await tab.Page.EvaluateAsync<string>("sessionStorage.getItem('qt.apiKey')"));

        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await tab.Page.WaitForSelectorAsync("main[data-page='markets'][data-ready='true']");
        var markets = await system.Gateway.GetFromJsonAsync<JsonElement[]>("/api/v1/markets");
        await Expect(tab.Page.Locator("main table tbody tr")).ToHaveCountAsync(markets!.Length);
        await tab.ScreenshotAsync("markets");

        // A fresh tab has no key: sessionStorage only.
        await using var other = await _browser.OpenAsync();
        await other.Page.GotoAsync("/#/portfolio"); // needs a key: the app sends it to sign-in
        await other.Page.WaitForSelectorAsync("main[data-page='signin'][data-ready='true']");
        Assert.Null(await other.Page.EvaluateAsync<string?>("sessionStorage.getItem('qt.apiKey')"));
        tab.AssertNoConsoleErrors();
        other.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task The_chart_draws_exactly_the_candles_the_klines_api_returns_for_its_range()
    {
        var (exchange, symbol) = await MarketWithKlinesAsync("1m");
        await using var tab = await _browser.OpenAsync();
        await tab.GoAsync($"chart/{exchange}/{symbol}?interval=1m&sma=1&bb=1&rsi=1&macd=1");

        var candles = await tab.JsonAsync<Candle[]>("window.qtChart.candles()");
        Assert.NotEmpty(candles);
        var from = DateTimeOffset.FromUnixTimeSeconds(candles[0].Time);
        var klines = await system.Gateway.GetFromJsonAsync<JsonElement[]>(
            $"/api/v1/markets/{exchange}/{symbol}/klines?interval=1m&from={from.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}&limit={candles.Length}");
        // The newest candle may still be open and move between the two reads; every closed one must be equal.
        var closed = candles.Length - 1;
        Assert.True(klines!.Length >= closed, $"the API has {klines.Length} klines from {from:o}, the chart {candles.Length}");
        for (var i = 0; i < closed; i++)
        {
            var k = klines[i];
            Assert.Equal(DateTimeOffset.Parse(k.GetProperty("openTime").GetString()!, CultureInfo.InvariantCulture).ToUnixTimeSeconds(), candles[i].Time);
            Assert.Equal(k.GetProperty("open").GetDouble(), candles[i].Open);
            Assert.Equal(k.GetProperty("high").GetDouble(), candles[i].High);
            Assert.Equal(k.GetProperty("low").GetDouble(), candles[i].Low);
            Assert.Equal(k.GetProperty("close").GetDouble(), candles[i].Close);
        }
        await tab.ScreenshotAsync("chart");

        // Every interval draws (the 8 of API.md).
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "5m", Exact = true }).ClickAsync();
        await tab.Page.WaitForSelectorAsync("main[data-page='chart'][data-ready='true']");
        Assert.Equal("5m", await tab.Page.EvaluateAsync<string>("window.qtChart.interval"));
        tab.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task A_limit_order_placed_in_the_ticket_rests_in_open_orders_and_on_the_chart_until_canceled()
    {
        var (exchange, symbol) = await MarketWithKlinesAsync("1m");
        var last = await LastPriceAsync(exchange, symbol);
        var price = Math.Floor(last * 0.8m);
        var (_, key, client) = await system.CreateUserAsync();
        await using var tab = await _browser.OpenAsync();
        await tab.SignInAsync(key);

        await tab.GoAsync($"trade?market={exchange}/{symbol}");
        await tab.Page.GetByLabel("Order type", new() { Exact = true }).SelectOptionAsync("limit");
        await tab.Page.GetByLabel("Side", new() { Exact = true }).SelectOptionAsync("buy");
        await tab.Page.GetByLabel("Quantity", new() { Exact = true }).FillAsync(QuantityFor(price));
        await tab.Page.GetByLabel("Limit price", new() { Exact = true }).FillAsync(price.ToString(CultureInfo.InvariantCulture));
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Place order" }).ClickAsync();
        var row = tab.Page.Locator("#open-orders tbody tr");
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row).ToContainTextAsync(symbol);
        await tab.ScreenshotAsync("trade");

        await tab.GoAsync($"chart/{exchange}/{symbol}?interval=1m");
        var lines = await tab.JsonAsync<PriceLine[]>("window.qtChart.priceLines()");
        Assert.Equal((double)price, Assert.Single(lines).Price);

        await tab.GoAsync("trade");
        await tab.Page.Locator("#open-orders").GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Expect(tab.Page.Locator("#open-orders tbody tr")).ToHaveCountAsync(0);
        var orders = await client.GetFromJsonAsync<JsonElement[]>("/api/v1/orders?limit=10");
        Assert.Equal("canceled", Assert.Single(orders!).GetProperty("status").GetString()!.Replace("Canceled", "canceled"));
        await tab.GoAsync($"chart/{exchange}/{symbol}?interval=1m");
        Assert.Empty(await tab.JsonAsync<PriceLine[]>("window.qtChart.priceLines()"));
        tab.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task A_market_order_from_the_ticket_shows_a_fill_marker_and_changes_the_portfolio()
    {
        var (exchange, symbol) = await MarketWithKlinesAsync("1m");
        var last = await LastPriceAsync(exchange, symbol);
        var (_, key, client) = await system.CreateUserAsync();
        await using var tab = await _browser.OpenAsync();
        await tab.SignInAsync(key);

        await tab.GoAsync($"trade?market={exchange}/{symbol}");
        await tab.Page.GetByLabel("Order type", new() { Exact = true }).SelectOptionAsync("market");
        await tab.Page.GetByLabel("Time in force", new() { Exact = true }).SelectOptionAsync("ioc");
        await tab.Page.GetByLabel("Quantity", new() { Exact = true }).FillAsync(QuantityFor(last));
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Place order" }).ClickAsync();
        await Expect(tab.Page.Locator("#banner")).ToContainTextAsync("Order placed");

        // Filled by the market's next print; the page shows it live with the stream, or on the next visit without.
        await Eventually.SucceedsAsync(async () =>
        {
            await tab.GoAsync("trade");
            Assert.Equal(1, await tab.Page.Locator("#fills tbody tr").CountAsync());
        }, Wait, TimeSpan.FromSeconds(1));
        await tab.GoAsync("portfolio");
        await Expect(tab.Page.Locator("#positions tbody tr")).ToContainTextAsync(symbol);
        await tab.ScreenshotAsync("portfolio");

        await tab.GoAsync($"chart/{exchange}/{symbol}?interval=1m");
        var markers = await tab.JsonAsync<Marker[]>("window.qtChart.markers()");
        Assert.StartsWith("B ", Assert.Single(markers).Text);
        var fills = await client.GetFromJsonAsync<JsonElement[]>("/api/v1/fills");
        Assert.Single(fills!);
        tab.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task An_alert_created_in_the_page_is_listed_and_deleted_there()
    {
        var (exchange, symbol) = await MarketWithKlinesAsync("1m");
        var (_, key, client) = await system.CreateUserAsync();
        await using var tab = await _browser.OpenAsync();
        await tab.SignInAsync(key);

        await tab.GoAsync("alerts");
        await tab.Page.GetByLabel("Market", new() { Exact = true }).SelectOptionAsync($"{exchange}/{symbol}");
        await tab.Page.GetByLabel("Condition", new() { Exact = true }).SelectOptionAsync("price_crosses_above");
        await tab.Page.GetByLabel("Value (price, percent or indicator level)", new() { Exact = true }).FillAsync("99999999");
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Create alert" }).ClickAsync();
        await Expect(tab.Page.Locator("#alerts tbody tr")).ToContainTextAsync("price crosses above");
        var alerts = await client.GetFromJsonAsync<JsonElement[]>("/api/v1/alerts");
        Assert.Equal(symbol, Assert.Single(alerts!).GetProperty("symbol").GetString());
        await tab.ScreenshotAsync("alerts");

        await tab.Page.Locator("#alerts").GetByRole(AriaRole.Button, new() { Name = $"Delete alert on {symbol}" }).ClickAsync();
        await Expect(tab.Page.Locator("#alerts tbody tr")).ToHaveCountAsync(0);
        tab.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task A_WAT_strategy_uploaded_in_the_page_backtests_and_draws_its_equity_curve()
    {
        var symbol = StrategyFiles.UniqueSymbol();
        const int bars = 240;
        await BacktestTests.InsertWaveAsync(system, symbol, bars);
        var (_, key, _) = await system.CreateUserAsync();
        await using var tab = await _browser.OpenAsync();
        await tab.SignInAsync(key);

        await tab.GoAsync("strategies");
        await tab.Page.GetByLabel("Module (.wasm or .wat)", new() { Exact = true }).SetInputFilesAsync(Path.Combine(AppContext.BaseDirectory, "strategies", "wat", "sma-crossover.wat"));
        await tab.Page.GetByLabel("Name", new() { Exact = true }).FillAsync("SMA 5/20");
        await tab.Page.GetByLabel("Exchange", new() { Exact = true }).SelectOptionAsync("binance");
        await tab.Page.GetByLabel("Symbol", new() { Exact = true }).FillAsync(symbol);
        await tab.Page.GetByLabel("Parameters (JSON)", new() { Exact = true }).FillAsync("""{"fast":5,"slow":20,"quantity":0.5}""");
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Upload" }).ClickAsync();
        await Expect(tab.Page.Locator("#strategies tbody tr")).ToContainTextAsync("SMA 5/20");

        var start = BacktestTests.Start;
        await tab.Page.GetByLabel("From (UTC)", new() { Exact = true }).FillAsync(start.UtcDateTime.ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture));
        await tab.Page.GetByLabel("To (UTC)", new() { Exact = true }).FillAsync(start.AddMinutes(bars).UtcDateTime.ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture));
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Run backtest" }).ClickAsync();
        await tab.Page.WaitForSelectorAsync("#backtest-chart");
        Assert.Equal(bars, await tab.Page.EvaluateAsync<int>("window.qtBacktest.equityPoints()"));
        await Expect(tab.Page.Locator("#backtest-result")).ToContainTextAsync("Max drawdown");
        Assert.True(await tab.Page.Locator("#backtest-fills tbody tr").CountAsync() > 0, "the crossover strategy traded the wave");
        await tab.ScreenshotAsync("strategies");

        // The same market on the chart, with every indicator: four hours of klines (docs/chart.png is this page).
        await tab.GoAsync($"chart/binance/{symbol}?interval=1m&sma=1&bb=1&rsi=1&macd=1");
        Assert.Equal(bars, (await tab.JsonAsync<Candle[]>("window.qtChart.candles()")).Length);
        await tab.ScreenshotAsync("chart-indicators");
        tab.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task No_page_logs_a_console_error_at_desktop_or_phone_width()
    {
        var (exchange, symbol) = await MarketWithKlinesAsync("1m");
        var (_, key, _) = await system.CreateUserAsync();
        foreach (var mobile in new[] { false, true })
        {
            await using var tab = await _browser.OpenAsync(mobile);
            await tab.SignInAsync(key);
            foreach (var route in new[] { "markets", $"chart/{exchange}/{symbol}?interval=1h&ema=1", "trade", "portfolio", "alerts", "strategies", "account" })
            {
                await tab.GoAsync(route);
                var name = route.Split('/', '?')[0];
                await tab.ScreenshotAsync(mobile ? $"{name}-375px" : $"{name}-signed-in");
                // Nothing wider than the window at 375 px: the page reflows instead (tables scroll inside their box).
                var overflow = await tab.Page.EvaluateAsync<int>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
                Assert.True(overflow <= 0, $"{route} is {overflow} px wider than the window");
            }
            tab.AssertNoConsoleErrors();
        }
    }

    [Fact]
    public async Task The_server_s_problem_shows_next_to_the_field_it_names_and_a_bad_key_returns_to_sign_in()
    {
        var (exchange, symbol) = await MarketWithKlinesAsync("1m");
        var (_, key, _) = await system.CreateUserAsync();
        await using var tab = await _browser.OpenAsync();
        await tab.SignInAsync(key);

        await tab.GoAsync($"trade?market={exchange}/{symbol}");
        await tab.Page.GetByLabel("Order type", new() { Exact = true }).SelectOptionAsync("limit");
        await tab.Page.GetByLabel("Quantity", new() { Exact = true }).FillAsync("0.001");
        await tab.Page.GetByLabel("Limit price", new() { Exact = true }).FillAsync("0");
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Place order" }).ClickAsync();
        // The 400 names "price": its sentence sits under the price field, which is marked invalid.
        await Expect(tab.Page.Locator("[data-error-for='price']")).Not.ToBeEmptyAsync();
        await Expect(tab.Page.GetByLabel("Limit price", new() { Exact = true })).ToHaveAttributeAsync("aria-invalid", "true");
        await tab.ScreenshotAsync("trade-field-error");

        await tab.Page.EvaluateAsync("sessionStorage.setItem('qt.apiKey', 'qt_not_a_key')");
        await tab.Page.GotoAsync("/#/portfolio");
        await tab.Page.WaitForSelectorAsync("main[data-page='signin'][data-ready='true']");
        await Expect(tab.Page.Locator("#banner")).ToContainTextAsync("unknown or revoked");
        // The refused requests themselves are the only errors the browser logged.
        Assert.All(tab.ConsoleErrors, e => Assert.Contains("Failed to load resource", e));
    }

    [Fact]
    public async Task A_trade_injected_through_the_simulator_moves_the_live_candle_within_2_s()
    {
        var (exchange, symbol) = await MarketWithKlinesAsync("1m");
        await using var tab = await _browser.OpenAsync();
        await tab.GoAsync($"chart/{exchange}/{symbol}?interval=1m");
        var price = Math.Round(await LastPriceAsync(exchange, symbol) * 1.01m, 2);
        await InjectTradeAsync(exchange, symbol, price);
        var injected = DateTime.UtcNow;
        await Eventually.SucceedsAsync(async () =>
        {
            var candles = await tab.JsonAsync<Candle[]>("window.qtChart.candles()");
            Assert.True(candles[^1].High >= (double)price, $"the live candle's high is {candles[^1].High}, the injected print {price}");
        }, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(50));
        var took = DateTime.UtcNow - injected;
        Assert.True(took < TimeSpan.FromSeconds(2), $"the candle moved {took.TotalMilliseconds:F0} ms after the print");
        tab.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task An_alert_created_in_the_page_fires_on_an_injected_print_and_shows_up_live()
    {
        var (exchange, symbol) = await MarketWithKlinesAsync("1m");
        var (_, key, _) = await system.CreateUserAsync();
        await using var tab = await _browser.OpenAsync();
        await tab.SignInAsync(key);
        await tab.GoAsync("alerts");
        var level = Math.Round(await LastPriceAsync(exchange, symbol) * 1.02m, 2);
        await tab.Page.GetByLabel("Market", new() { Exact = true }).SelectOptionAsync($"{exchange}/{symbol}");
        await tab.Page.GetByLabel("Condition", new() { Exact = true }).SelectOptionAsync("price_above");
        await tab.Page.GetByLabel("Value (price, percent or indicator level)", new() { Exact = true }).FillAsync(level.ToString(CultureInfo.InvariantCulture));
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Create alert" }).ClickAsync();
        await Expect(tab.Page.Locator("#alerts tbody tr")).ToHaveCountAsync(1);

        await InjectTradeAsync(exchange, symbol, level + 1m);
        await Expect(tab.Page.Locator("#alert-events tbody tr")).ToHaveCountAsync(1, new() { Timeout = 20_000 });
        await tab.ScreenshotAsync("alerts-fired");
        tab.AssertNoConsoleErrors();
    }

    private async Task InjectTradeAsync(string exchange, string symbol, decimal price)
    {
        using var simulator = new HttpClient { BaseAddress = system.ServiceEndpoint("exchange-simulator") };
        using var response = await simulator.PostAsJsonAsync("/control/trades", new { exchange, symbol, price, quantity = 0.01m, side = "buy" });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>A market of the running system with klines of the interval (the simulator's, after its first minute).</summary>
    private async Task<(string Exchange, string Symbol)> MarketWithKlinesAsync(string interval)
    {
        var markets = await system.Gateway.GetFromJsonAsync<JsonElement[]>("/api/v1/markets");
        var preferred = markets!.OrderBy(m => m.GetProperty("symbol").GetString() == "BTCUSDT" ? 0 : 1).First();
        var (exchange, symbol) = (preferred.GetProperty("exchange").GetString()!, preferred.GetProperty("symbol").GetString()!);
        await Eventually.SucceedsAsync(async () =>
        {
            var klines = await system.Gateway.GetFromJsonAsync<JsonElement[]>($"/api/v1/markets/{exchange}/{symbol}/klines?interval={interval}&limit=2");
            Assert.NotEmpty(klines!);
        }, Wait, TimeSpan.FromSeconds(1));
        return (exchange, symbol);
    }

    private async Task<decimal> LastPriceAsync(string exchange, string symbol)
    {
        var klines = await system.Gateway.GetFromJsonAsync<JsonElement[]>($"/api/v1/markets/{exchange}/{symbol}/klines?interval=1m&limit=1");
        return klines![^1].GetProperty("close").GetDecimal();
    }

    /// <summary>About 50 USDT of the market: above any minimum notional, far below the starting balance.</summary>
    private static string QuantityFor(decimal price)
        => Math.Max(0.001m, Math.Round(50m / price, 3, MidpointRounding.ToPositiveInfinity)).ToString(CultureInfo.InvariantCulture);

    private sealed record Candle(long Time, double Open, double High, double Low, double Close);

    private sealed record PriceLine(double Price, string Title);

    private sealed record Marker(long Time, string? Text);
}
