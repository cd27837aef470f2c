using System.Net.Http.Json;
using System.Text.Json;
using QuantTrader.Contracts.MarketData;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// One simulated market that prints nothing by itself until disposed (its rate back to what it was), and one trade
/// at a time when a test asks: the market whose missed trades no later live trade would reveal.
/// </summary>
public sealed class QuietMarket : IAsyncDisposable
{
    private readonly HttpClient _simulator;
    private readonly string _exchange;
    private readonly string _symbol;
    private readonly double _rate;

    private QuietMarket(HttpClient simulator, string exchange, string symbol, double rate)
    {
        _simulator = simulator;
        _exchange = exchange;
        _symbol = symbol;
        _rate = rate;
    }

    public static async Task<QuietMarket> StartAsync(HttpClient simulator, string exchange, string symbol)
    {
        var stats = await simulator.GetFromJsonAsync<JsonElement[]>("/control/stats");
        var rate = stats!.Single(s => s.GetProperty("exchange").GetString() == exchange && s.GetProperty("symbol").GetString() == symbol)
            .GetProperty("tradesPerSecond").GetDouble();
        await SetRateAsync(simulator, exchange, symbol, 0);
        return new QuietMarket(simulator, exchange, symbol, rate);
    }

    /// <summary>
    /// Prints one trade at the market's last price (to whoever is connected and delivering; other tests' candles and
    /// alerts see nothing unusual) and returns it as the exchange recorded it.
    /// </summary>
    public async Task<Trade> PrintAsync()
    {
        var last = (await _simulator.GetFromJsonAsync<Trade[]>($"/control/trades?exchange={_exchange}&symbol={_symbol}", MarketStream.Json))![^1];
        using var response = await _simulator.PostAsJsonAsync("/control/trades",
            new { exchange = _exchange, symbol = _symbol, price = last.Price, quantity = 0.01m, side = "buy" });
        response.EnsureSuccessStatusCode();
        // One print is one trade or more (an aggregate); at 0.01 it is one.
        var printed = (await response.Content.ReadFromJsonAsync<Trade[]>(MarketStream.Json))!.Single();
        var recorded = await _simulator.GetFromJsonAsync<Trade[]>($"/control/trades?exchange={_exchange}&symbol={_symbol}", MarketStream.Json);
        return recorded!.Single(t => t.TradeId == printed.TradeId);
    }

    public async ValueTask DisposeAsync() => await SetRateAsync(_simulator, _exchange, _symbol, _rate);

    private static async Task SetRateAsync(HttpClient simulator, string exchange, string symbol, double rate)
    {
        using var response = await simulator.PostAsJsonAsync("/control/rate", new { exchange, symbol, tradesPerSecond = rate });
        response.EnsureSuccessStatusCode();
    }
}
