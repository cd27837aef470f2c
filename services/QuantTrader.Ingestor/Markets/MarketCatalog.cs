using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using QuantTrader.Contracts.Messaging;
using QuantTrader.MarketData.Normalization;

namespace QuantTrader.Ingestor.Markets;

/// <summary>One market being ingested, as <c>GET /api/v1/markets</c> shows it.</summary>
public sealed record Market(string Exchange, string Symbol, string Base, string Quote, string ExchangeSymbol);

/// <summary>
/// The configured symbols resolved against the symbol table. At start-up the table is refreshed from the exchanges'
/// own metadata (Binance <c>exchangeInfo</c>, OKX <c>public/instruments</c>: base, quote, tick, step); when that
/// fails, the built-in table (<see cref="SymbolNormalizer.CreateDefault"/>) is the fallback, with a warning.
/// </summary>
public sealed class MarketCatalog(SymbolNormalizer symbols, IOptions<MarketDataOptions> options, IHttpClientFactory http, ILogger<MarketCatalog> logger)
{
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile IReadOnlyList<Market> _markets = [];

    public IReadOnlyList<Market> All => _markets;

    /// <summary>Completes once the symbol table is loaded: before that no market is known.</summary>
    public Task Loaded => _loaded.Task;

    public IReadOnlyList<Market> Markets(string exchange) => [.. _markets.Where(m => m.Exchange == exchange)];

    /// <summary>The markets of one partition (<see cref="Partitions.OfMarket"/>): what its owner connects.</summary>
    public IReadOnlyList<Market> InPartition(int partition) =>
        [.. _markets.Where(m => Partitions.OfMarket(m.Exchange, m.Symbol) == partition)];

    public async Task LoadAsync(CancellationToken ct)
    {
        var o = options.Value;
        // Configuration lists the symbols; the default handful applies when it lists none.
        var wanted = (o.Symbols.Count > 0 ? o.Symbols : ["BTCUSDT", "ETHUSDT", "SOLUSDT"]).Select(s => s.Trim().ToUpperInvariant()).Where(s => s.Length > 0).Distinct().ToList();
        var markets = new List<Market>();
        foreach (var (exchange, settings) in new (string, MarketDataOptions.ExchangeOptions)[] { (Exchanges.Binance, o.Binance), (Exchanges.Okx, o.Okx) })
        {
            if (!settings.Enabled)
            {
                continue;
            }

            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(15));
                var imported = exchange == Exchanges.Binance
                    ? await ImportBinanceAsync(settings.RestUrl, wanted, timeout.Token)
                    : await ImportOkxAsync(settings.RestUrl, wanted, timeout.Token);
                logger.LogInformation("{Exchange}: {Count} instruments refreshed from exchange metadata", exchange, imported);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                logger.LogWarning(ex, "{Exchange}: exchange metadata unavailable; using the built-in instrument table", exchange);
            }

            foreach (var symbol in wanted)
            {
                if (symbols.TryGet(exchange, symbol, out var i))
                {
                    markets.Add(new Market(exchange, i.Symbol, i.BaseAsset, i.QuoteAsset, i.ExchangeSymbol));
                }
                else
                {
                    logger.LogError("{Exchange}: configured symbol {Symbol} is unknown (not in exchange metadata or the built-in table); not ingested",
                        exchange, symbol);
                }
            }
        }

        _markets = markets;
        _loaded.TrySetResult();
    }

    private async Task<int> ImportBinanceAsync(string restUrl, List<string> wanted, CancellationToken ct)
    {
        var client = http.CreateClient("exchange-metadata");
        var list = Uri.EscapeDataString(JsonSerializer.Serialize(wanted));
        using var doc = JsonDocument.Parse(await client.GetStringAsync($"{restUrl.TrimEnd('/')}/api/v3/exchangeInfo?symbols={list}", ct));
        var count = 0;
        foreach (var s in doc.RootElement.GetProperty("symbols").EnumerateArray())
        {
            var name = s.GetProperty("symbol").GetString()!;
            if (!wanted.Contains(name))
            {
                continue;
            }

            decimal tick = 0, step = 0, minNotional = 0;
            foreach (var f in s.GetProperty("filters").EnumerateArray())
            {
                switch (f.GetProperty("filterType").GetString())
                {
                    case "PRICE_FILTER":
                        tick = Dec(f, "tickSize");
                        break;
                    case "LOT_SIZE":
                        step = Dec(f, "stepSize");
                        break;
                    case "NOTIONAL" or "MIN_NOTIONAL":
                        minNotional = Dec(f, "minNotional");
                        break;
                }
            }

            symbols.Register(Exchanges.Binance, s.GetProperty("baseAsset").GetString()!, s.GetProperty("quoteAsset").GetString()!, tick, step, minNotional);
            count++;
        }

        return count;
    }

    private async Task<int> ImportOkxAsync(string restUrl, List<string> wanted, CancellationToken ct)
    {
        var client = http.CreateClient("exchange-metadata");
        using var doc = JsonDocument.Parse(await client.GetStringAsync($"{restUrl.TrimEnd('/')}/api/v5/public/instruments?instType=SPOT", ct));
        var count = 0;
        foreach (var i in doc.RootElement.GetProperty("data").EnumerateArray())
        {
            var baseAsset = i.GetProperty("baseCcy").GetString()!;
            var quoteAsset = i.GetProperty("quoteCcy").GetString()!;
            var symbol = (baseAsset + quoteAsset).ToUpperInvariant();
            if (!wanted.Contains(symbol))
            {
                continue;
            }

            // OKX states no minimum notional for spot: keep the one we know, if any.
            var minNotional = symbols.TryGet(Exchanges.Okx, symbol, out var known) ? known.MinNotional : 0m;
            symbols.Register(Exchanges.Okx, baseAsset, quoteAsset, Dec(i, "tickSz"), Dec(i, "lotSz"), minNotional);
            count++;
        }

        return count;
    }

    private static decimal Dec(JsonElement e, string name) =>
        decimal.Parse(e.GetProperty(name).GetString()!, NumberStyles.Number, CultureInfo.InvariantCulture) / 1.000000000000000000000000000m;
}
