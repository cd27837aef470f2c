using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace QuantTrader.LoadTest.Failover;

/// <summary>
/// The users' side of the failover run, set up through the gateway as users would: several traders with resting paper
/// orders, alert rules (<c>once</c> and repeating) posting to a local webhook, and a running strategy; then price pulses
/// the simulator prints on a few markets so the orders trade and the rules fire while replicas die.
/// <para>
/// A pulse is two injected prints: one far from the market (10 % below or 12 % above the level the market was set to),
/// then one back at that level, from where the simulator's random walk goes on (it moves a fraction of a percent in a
/// run, so only pulses reach the orders and alert levels). So every pulse crosses each rule's level exactly once: a
/// repeating rule must fire once per pulse of its direction, a <c>once</c> rule once in all — exact expectations.
/// </para>
/// </summary>
public sealed class TradingScenario(HttpClient gateway, HttpClient simulator, NpgsqlDataSource db, WebhookReceiver webhooks)
{
    /// <summary>The pulsed markets and the price each is set to (BTC and ETH: their random walk is the calmest relative to the price).</summary>
    public static readonly (string Exchange, string Symbol, decimal Level, decimal Quantity)[] Markets =
    [
        ("binance", "BTCUSDT", 64_000m, 0.01m),
        ("binance", "ETHUSDT", 3_100m, 0.2m),
        ("okx", "BTCUSDT", 64_000m, 0.01m),
        ("okx", "ETHUSDT", 3_100m, 0.2m),
    ];

    /// <summary>The market the strategy trades (not pulsed: its orders fill from the walk).</summary>
    public const string StrategySymbol = "SOLUSDT";

    private const int Traders = 4;

    /// <summary>The paper engine refuses orders under 5 (quote) notional; a margin keeps rounding clear of it.</summary>
    private const decimal MinimumRestingNotional = 10m;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public List<LoadRun.Trader> Users { get; } = [];

    /// <summary>Rule id → (market, repeat, direction).</summary>
    public Dictionary<Guid, (string Exchange, string Symbol, string Repeat, bool Above)> Rules { get; } = [];

    public Guid? StrategyId { get; private set; }

    public string? StrategyNote { get; private set; }

    public DateTimeOffset? StrategyStarted { get; private set; }

    /// <summary>Pulses printed per (market index, above).</summary>
    public int[,] Pulses { get; } = new int[Markets.Length, 2];

    /// <summary>Each user's balances (free + locked per asset) before the first order.</summary>
    public Dictionary<Guid, Dictionary<string, decimal>> OpeningBalances { get; } = [];

    public async Task SetUpAsync(CancellationToken ct)
    {
        foreach (var (exchange, symbol, level, _) in Markets)
        {
            await PrintAsync(exchange, symbol, level, 1m, ct);
        }
        for (var i = 0; i < Traders; i++)
        {
            var trader = await LoadRun.TraderAsync(gateway, db, ct);
            Users.Add(trader);
            // Opens the paper account (its starting balance) before any order, as the engine reports it.
            var portfolio = await PortfolioAsync(trader, ct);
            OpeningBalances[trader.UserId] = portfolio.GetProperty("balances").EnumerateArray()
                .ToDictionary(b => b.GetProperty("asset").GetString()!, b => b.GetProperty("free").GetDecimal() + b.GetProperty("locked").GetDecimal());
        }

        foreach (var trader in Users)
        {
            foreach (var (exchange, symbol, level, quantity) in Markets)
            {
                // Some base to sell: a market buy at the level, then a resting sell above it and a resting buy below.
                await OrderAsync(trader, new { exchange, symbol, side = "buy", type = "market", quantity, timeInForce = "ioc" }, ct);
                // A market order takes what the last print offers: sell 90 % of what the account got, when that is
                // above the engine's minimum notional (a small last print leaves too little to rest).
                var bought = Math.Round(await FreeAsync(trader, symbol[..^4], ct) * 0.9m, 4, MidpointRounding.ToZero);
                if (bought * level * 1.10m >= MinimumRestingNotional)
                {
                    await OrderAsync(trader, new { exchange, symbol, side = "sell", type = "limit", quantity = bought, price = Round(level * 1.10m), timeInForce = "gtc" }, ct);
                }
                await OrderAsync(trader, new { exchange, symbol, side = "buy", type = "limit", quantity, price = Round(level * 0.90m), timeInForce = "gtc" }, ct);
            }
        }

        // Each trader watches one market: a once rule and a repeating one above the level, a repeating one below it.
        for (var i = 0; i < Users.Count; i++)
        {
            var (exchange, symbol, level, _) = Markets[i % Markets.Length];
            await RuleAsync(Users[i], exchange, symbol, "price_crosses_above", Round(level * 1.05m), "once", ct);
            await RuleAsync(Users[i], exchange, symbol, "price_crosses_above", Round(level * 1.05m), "every", ct);
            await RuleAsync(Users[i], exchange, symbol, "price_crosses_below", Round(level * 0.95m), "every", ct);
        }

        await StartStrategyAsync(Users[0], ct);
    }

    /// <summary>The <paramref name="n"/>-th pulse: markets in turn, alternately below and above.</summary>
    public async Task PulseAsync(int n, CancellationToken ct)
    {
        var market = n % Markets.Length;
        var above = n / Markets.Length % 2 == 1;
        var (exchange, symbol, level, quantity) = Markets[market];
        // A print of 1.5 orders' size: shared by the four traders' resting orders at one price, it fills them partly.
        await PrintAsync(exchange, symbol, Round(level * (above ? 1.12m : 0.88m)), quantity * 1.5m, ct);
        await PrintAsync(exchange, symbol, level, quantity, ct);
        Pulses[market, above ? 1 : 0]++;
    }

    private async Task PrintAsync(string exchange, string symbol, decimal price, decimal quantity, CancellationToken ct)
    {
        using var response = await simulator.PostAsJsonAsync("/control/trades", new { exchange, symbol, price, quantity, side = "buy" }, Json, ct);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>
    /// Places a set-up order; a 503 (risk did not answer in time while the freshly started system warms up: the order
    /// was rejected, fail closed) is tried again as its text says, anything else refused ends the run.
    /// </summary>
    private static async Task OrderAsync(LoadRun.Trader trader, object order, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var response = await trader.Client.PostAsJsonAsync("/api/v1/orders", order, ct);
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            var text = await response.Content.ReadAsStringAsync(ct);
            if (response.StatusCode != System.Net.HttpStatusCode.ServiceUnavailable || attempt == 5)
            {
                throw new InvalidOperationException($"order refused: {(int)response.StatusCode} {text}");
            }

            Console.WriteLine($"  order refused with 503 (attempt {attempt}), trying again in 2 s: {text}");
            await Task.Delay(TimeSpan.FromSeconds(2), ct);
        }
    }

    private async Task RuleAsync(LoadRun.Trader trader, string exchange, string symbol, string type, decimal value, string repeat, CancellationToken ct)
    {
        using var response = await trader.Client.PostAsJsonAsync("/api/v1/alerts",
            new { exchange, symbol, condition = new { type, value }, webhookUrl = webhooks.Url, repeat }, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"alert rule refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        }
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetGuid();
        Rules[id] = (exchange, symbol, repeat, type == "price_crosses_above");
    }

    /// <summary>
    /// A strategy that places one small limit buy at the close of every 1m kline of its market (its orders' client ids
    /// name the kline), so the orders it made count the klines it saw. Skipped, with the reason, if the runner refuses it.
    /// </summary>
    private async Task StartStrategyAsync(LoadRun.Trader trader, CancellationToken ct)
    {
        var module = new ByteArrayContent(Encoding.UTF8.GetBytes(EveryKlineStrategy.Wat));
        module.Headers.ContentType = new("application/octet-stream");
        using var form = new MultipartFormDataContent
        {
            { module, "module", "every-kline.wat" },
            { new StringContent("failover every-kline"), "name" },
            { new StringContent("binance"), "exchange" },
            { new StringContent(StrategySymbol), "symbol" },
            { new StringContent("1m"), "interval" },
            { new StringContent("{}"), "parameters" },
        };
        using var created = await trader.Client.PostAsync("/api/v1/strategies", form, ct);
        if (!created.IsSuccessStatusCode)
        {
            StrategyNote = $"strategy upload refused: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync(ct)}";
            return;
        }
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetGuid();
        using var started = await trader.Client.PostAsync($"/api/v1/strategies/{id}/start", null, ct);
        if (!started.IsSuccessStatusCode)
        {
            StrategyNote = $"strategy start refused: {(int)started.StatusCode} {await started.Content.ReadAsStringAsync(ct)}";
            return;
        }
        StrategyId = id;
        StrategyStarted = DateTimeOffset.UtcNow;
    }

    /// <summary>
    /// The portfolio, asked until the engine answers (up to 3 minutes): a replica that just became active subscribes
    /// to its requests only after loading its state, and the standby the gateway reaches forwards to it.
    /// </summary>
    private static async Task<JsonElement> PortfolioAsync(LoadRun.Trader trader, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (true)
        {
            try
            {
                using var response = await trader.Client.GetAsync("/api/v1/portfolio", ct);
                if (response.IsSuccessStatusCode)
                {
                    return await response.Content.ReadFromJsonAsync<JsonElement>(ct);
                }
                if (DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException($"the paper engine does not answer: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested && DateTime.UtcNow < deadline)
            {
                // not ready yet
            }
            await Task.Delay(TimeSpan.FromSeconds(2), ct);
        }
    }

    /// <summary>The free balance of one asset, as the engine reports it now (its orders for other markets hold none of it).</summary>
    private static async Task<decimal> FreeAsync(LoadRun.Trader trader, string asset, CancellationToken ct)
    {
        var portfolio = await PortfolioAsync(trader, ct);
        return portfolio.GetProperty("balances").EnumerateArray()
            .Where(b => b.GetProperty("asset").GetString() == asset)
            .Select(b => b.GetProperty("free").GetDecimal())
            .FirstOrDefault();
    }

    private static decimal Round(decimal price) => Math.Round(price, 2, MidpointRounding.ToZero);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Users.Count} traders, {Users.Count * Markets.Length * 2} resting orders on {Markets.Length} markets, {Rules.Count} alert rules, strategy {(StrategyId is null ? "skipped" : "running")}");
}
