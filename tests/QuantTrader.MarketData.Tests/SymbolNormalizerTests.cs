using QuantTrader.MarketData.Normalization;

namespace QuantTrader.MarketData.Tests;

public sealed class SymbolNormalizerTests
{
    private readonly SymbolNormalizer _symbols = SymbolNormalizer.CreateDefault();

    [Theory]
    [InlineData("binance", "btcusdt", "BTCUSDT", "BTC", "USDT")]
    [InlineData("binance", "BTCUSDT", "BTCUSDT", "BTC", "USDT")]
    [InlineData("binance", "DogeUsdt", "DOGEUSDT", "DOGE", "USDT")]
    [InlineData("binance", "btcusdc", "BTCUSDC", "BTC", "USDC")]
    [InlineData("okx", "BTC-USDT", "BTCUSDT", "BTC", "USDT")]
    [InlineData("okx", "eth-usdt", "ETHUSDT", "ETH", "USDT")]
    [InlineData("okx", "BTC-USDC", "BTCUSDC", "BTC", "USDC")]
    public void Exchange_spellings_normalize_to_one_symbol(string exchange, string exchangeSymbol, string symbol, string baseAsset, string quoteAsset)
    {
        Assert.True(_symbols.TryNormalize(exchange, exchangeSymbol, out var instrument));
        Assert.Equal(symbol, instrument.Symbol);
        Assert.Equal(baseAsset, instrument.BaseAsset);
        Assert.Equal(quoteAsset, instrument.QuoteAsset);
        Assert.Equal(exchange, instrument.Exchange);
    }

    [Fact]
    public void Default_table_has_the_ten_usdt_pairs_and_btcusdc_on_both_exchanges()
    {
        string[] expected = ["ADAUSDT", "BNBUSDT", "BTCUSDC", "BTCUSDT", "DOGEUSDT", "DOTUSDT", "ETHUSDT", "LTCUSDT", "SOLUSDT", "UNIUSDT", "XRPUSDT"];
        foreach (var exchange in new[] { Exchanges.Binance, Exchanges.Okx })
        {
            Assert.Equal(expected, _symbols.All.Where(i => i.Exchange == exchange).Select(i => i.Symbol));
        }

        Assert.Equal([Exchanges.Binance, Exchanges.Okx], _symbols.KnownExchanges);
        Assert.All(_symbols.All, i => Assert.True(i.TickSize > 0 && i.StepSize > 0 && i.MinNotional > 0));
    }

    [Fact]
    public void Binance_filters_are_the_documented_defaults()
    {
        var btc = _symbols.Get(Exchanges.Binance, "BTCUSDT");
        Assert.Equal(0.01m, btc.TickSize);
        Assert.Equal(0.00001m, btc.StepSize);
        Assert.Equal(5m, btc.MinNotional);
        Assert.Equal(0.00001m, _symbols.Get(Exchanges.Binance, "DOGEUSDT").TickSize);
    }

    [Fact]
    public void Normalized_symbol_maps_back_to_each_exchange_spelling()
    {
        Assert.Equal("BTCUSDT", _symbols.ToExchangeSymbol(Exchanges.Binance, "BTCUSDT"));
        Assert.Equal("BTC-USDT", _symbols.ToExchangeSymbol(Exchanges.Okx, "BTCUSDT"));
        Assert.True(_symbols.TryGet(Exchanges.Okx, "SOLUSDT", out var sol));
        Assert.Equal("SOL-USDT", sol.ExchangeSymbol);
    }

    [Theory]
    [InlineData("binance", "BTC-USDT")] // OKX spelling on Binance
    [InlineData("okx", "BTCUSDT")] // Binance spelling on OKX
    [InlineData("okx", "UNI-USD-SWAP")]
    [InlineData("binance", "FOOUSDT")]
    [InlineData("kraken", "BTCUSDT")]
    [InlineData("", "BTCUSDT")]
    public void Unknown_exchange_or_symbol_is_not_resolved(string exchange, string exchangeSymbol)
    {
        Assert.False(_symbols.TryNormalize(exchange, exchangeSymbol, out var instrument));
        Assert.Null(instrument);
    }

    [Fact]
    public void Throwing_lookups_say_what_was_unknown()
    {
        var exchange = Assert.Throws<UnknownInstrumentException>(() => _symbols.Normalize("kraken", "XBTUSD"));
        Assert.Contains("Unknown exchange 'kraken'", exchange.Message, StringComparison.Ordinal);
        Assert.Contains("binance, okx", exchange.Message, StringComparison.Ordinal);

        var symbol = Assert.Throws<UnknownInstrumentException>(() => _symbols.Get(Exchanges.Okx, "PEPEUSDT"));
        Assert.Contains("Unknown symbol 'PEPEUSDT' on okx", symbol.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Register_adds_an_imported_symbol_with_the_exchange_spelling()
    {
        var pepe = _symbols.Register("okx", "pepe", "usdt", 0.00000001m, 1m, 1m);
        Assert.Equal(new Instrument("okx", "PEPE-USDT", "PEPEUSDT", "PEPE", "USDT", 0.00000001m, 1m, 1m), pepe);
        Assert.True(_symbols.TryNormalize("okx", "PEPE-USDT", out var found));
        Assert.Same(pepe, found);
        Assert.False(_symbols.TryNormalize("binance", "PEPEUSDT", out _));
    }

    [Fact]
    public void Register_replaces_default_filters_with_imported_ones()
    {
        _symbols.Register(new Instrument("binance", "BTCUSDT", "BTCUSDT", "BTC", "USDT", 0.1m, 0.001m, 10m));
        Assert.Equal(0.1m, _symbols.Get("binance", "BTCUSDT").TickSize);
        Assert.Single(_symbols.All, i => i.Exchange == "binance" && i.Symbol == "BTCUSDT");
    }

    [Fact]
    public void Register_can_add_a_new_exchange()
    {
        Assert.False(_symbols.IsKnownExchange("bybit"));
        _symbols.Register(new Instrument("bybit", "BTCUSDT", "BTCUSDT", "BTC", "USDT", 0.1m, 0.000001m, 1m));
        Assert.True(_symbols.IsKnownExchange("bybit"));
        Assert.Equal("BTCUSDT", _symbols.Normalize("bybit", "btcusdt").Symbol);
    }

    [Theory]
    [InlineData("binance", "BTC-USDT", "BTCUSDT", "BTC", "USDT", 0.01, 0.001, 5)] // wrong Binance spelling
    [InlineData("okx", "BTCUSDT", "BTCUSDT", "BTC", "USDT", 0.01, 0.001, 5)] // wrong OKX spelling
    [InlineData("binance", "BTCUSDT", "BTCUSD", "BTC", "USDT", 0.01, 0.001, 5)] // symbol is not base + quote
    [InlineData("Binance", "BTCUSDT", "BTCUSDT", "BTC", "USDT", 0.01, 0.001, 5)] // exchange not lower case
    [InlineData("binance", "BTCUSDT", "BTCUSDT", "BTC", "USDT", 0, 0.001, 5)] // zero tick
    [InlineData("binance", "BTCUSDT", "BTCUSDT", "BTC", "USDT", 0.01, -1, 5)] // negative step
    [InlineData("binance", "BTCUSDT", "BTCUSDT", "BTC", "USDT", 0.01, 0.001, -5)] // negative notional
    public void Register_rejects_inconsistent_instruments(
        string exchange, string exchangeSymbol, string symbol, string baseAsset, string quoteAsset, double tick, double step, double minNotional)
    {
        var instrument = new Instrument(exchange, exchangeSymbol, symbol, baseAsset, quoteAsset, (decimal)tick, (decimal)step, (decimal)minNotional);
        Assert.Throws<ArgumentException>(() => _symbols.Register(instrument));
        Assert.Equal(0.01m, _symbols.Get("binance", "BTCUSDT").TickSize);
    }

    [Fact]
    public void An_empty_table_knows_nothing()
    {
        var empty = new SymbolNormalizer();
        Assert.Empty(empty.All);
        Assert.False(empty.TryNormalize("binance", "BTCUSDT", out _));
    }
}
