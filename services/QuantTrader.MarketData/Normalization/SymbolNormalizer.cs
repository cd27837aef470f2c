using System.Diagnostics.CodeAnalysis;

namespace QuantTrader.MarketData.Normalization;

/// <summary>
/// The table of instruments QuantTrader knows, per exchange: maps exchange spellings (<c>btcusdt</c>, <c>BTCUSDT</c>,
/// <c>BTC-USDT</c>) to the normalized symbol (<c>BTCUSDT</c>) and back.
/// Anything not in the table is unknown on purpose: a typo in a subscription or an instrument we never priced
/// (a swap, a dated future) must be rejected loudly rather than flow downstream under a guessed name.
/// </summary>
/// <remarks>
/// Lookups happen for every exchange message and take no lock: the table is copy-on-write and
/// <see cref="Register"/> (rare: start-up imports) swaps in a new one.
/// </remarks>
public sealed class SymbolNormalizer
{
    /// <summary>
    /// Default filters, from Binance spot <c>exchangeInfo</c> (PRICE_FILTER tickSize, LOT_SIZE stepSize,
    /// NOTIONAL minNotional) as known when this table was written. Exchanges change them; the service should
    /// <see cref="Register"/> the live values it imports. OKX gets the same defaults until its own are imported.
    /// </summary>
    private static readonly (string Base, string Quote, decimal Tick, decimal Step, decimal MinNotional)[] DefaultSpecs =
    [
        ("BTC", "USDT", 0.01m, 0.00001m, 5m),
        ("ETH", "USDT", 0.01m, 0.0001m, 5m),
        ("SOL", "USDT", 0.01m, 0.001m, 5m),
        ("BNB", "USDT", 0.01m, 0.001m, 5m),
        ("XRP", "USDT", 0.0001m, 0.1m, 5m),
        ("DOGE", "USDT", 0.00001m, 1m, 5m),
        ("ADA", "USDT", 0.0001m, 0.1m, 5m),
        ("DOT", "USDT", 0.001m, 0.01m, 5m),
        ("UNI", "USDT", 0.001m, 0.01m, 5m),
        ("LTC", "USDT", 0.01m, 0.001m, 5m),
        ("BTC", "USDC", 0.01m, 0.00001m, 5m),
    ];

    private volatile Table _table;
    private readonly Lock _writeLock = new();

    /// <summary>An empty table: only what is <see cref="Register"/>ed is known.</summary>
    public SymbolNormalizer()
    {
        _table = Table.Empty;
    }

    private SymbolNormalizer(Table table)
    {
        _table = table;
    }

    /// <summary>A new table holding the default instruments on Binance and OKX.</summary>
    public static SymbolNormalizer CreateDefault()
    {
        var table = Table.Empty;
        foreach (var exchange in new[] { Exchanges.Binance, Exchanges.Okx })
        {
            foreach (var spec in DefaultSpecs)
            {
                var instrument = new Instrument(
                    exchange,
                    ExchangeSymbolFor(exchange, spec.Base, spec.Quote),
                    spec.Base + spec.Quote,
                    spec.Base,
                    spec.Quote,
                    spec.Tick,
                    spec.Step,
                    spec.MinNotional);
                table = table.With(instrument);
            }
        }

        return new SymbolNormalizer(table);
    }

    /// <summary>Every known instrument, ordered by exchange then symbol.</summary>
    public IReadOnlyList<Instrument> All => _table.All;

    /// <summary>Exchanges with at least one instrument, in order.</summary>
    public IReadOnlyList<string> KnownExchanges => _table.Exchanges;

    public bool IsKnownExchange(string exchange) =>
        exchange is not null && _table.ByExchangeSymbol.ContainsKey(exchange);

    /// <summary>
    /// Exchange spelling → instrument. Case-insensitive (<c>btcusdt</c> from a Binance stream name and
    /// <c>BTCUSDT</c> from its payload are the same instrument). False for an unknown exchange or symbol.
    /// </summary>
    public bool TryNormalize(string exchange, string exchangeSymbol, [NotNullWhen(true)] out Instrument? instrument)
    {
        instrument = null;
        return exchange is not null
            && exchangeSymbol is not null
            && _table.ByExchangeSymbol.TryGetValue(exchange, out var symbols)
            && symbols.TryGetValue(exchangeSymbol, out instrument);
    }

    /// <summary>Normalized symbol (<c>BTCUSDT</c>) on one exchange → instrument. False when unknown.</summary>
    public bool TryGet(string exchange, string symbol, [NotNullWhen(true)] out Instrument? instrument)
    {
        instrument = null;
        return exchange is not null
            && symbol is not null
            && _table.BySymbol.TryGetValue(exchange, out var symbols)
            && symbols.TryGetValue(symbol, out instrument);
    }

    /// <summary>Like <see cref="TryNormalize"/>, but says which part was unknown.</summary>
    /// <exception cref="UnknownInstrumentException">Unknown exchange, or unknown symbol on a known exchange.</exception>
    public Instrument Normalize(string exchange, string exchangeSymbol)
    {
        if (TryNormalize(exchange, exchangeSymbol, out var instrument))
        {
            return instrument;
        }

        throw Unknown(exchange, exchangeSymbol);
    }

    /// <summary>Like <see cref="TryGet"/>, but says which part was unknown.</summary>
    /// <exception cref="UnknownInstrumentException">Unknown exchange, or unknown symbol on a known exchange.</exception>
    public Instrument Get(string exchange, string symbol)
    {
        if (TryGet(exchange, symbol, out var instrument))
        {
            return instrument;
        }

        throw Unknown(exchange, symbol);
    }

    /// <summary>Normalized symbol → the exchange's spelling (<c>BTCUSDT</c> → <c>BTC-USDT</c> on OKX).</summary>
    public string ToExchangeSymbol(string exchange, string symbol) => Get(exchange, symbol).ExchangeSymbol;

    /// <summary>
    /// Adds an instrument, or replaces the one with the same exchange and symbol (imported exchange filters win over
    /// the defaults). Binance and OKX spellings must follow the exchange's convention.
    /// </summary>
    /// <exception cref="ArgumentException">Inconsistent names, non-positive filters, or an exchange spelling already
    /// used by another symbol.</exception>
    public void Register(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        Validate(instrument);
        lock (_writeLock)
        {
            var table = _table;
            if (table.ByExchangeSymbol.TryGetValue(instrument.Exchange, out var bySpelling)
                && bySpelling.TryGetValue(instrument.ExchangeSymbol, out var existing)
                && !string.Equals(existing.Symbol, instrument.Symbol, StringComparison.Ordinal))
            {
                throw new ArgumentException(
                    $"'{instrument.ExchangeSymbol}' on {instrument.Exchange} already means {existing.Symbol}.",
                    nameof(instrument));
            }

            _table = table.With(instrument);
        }
    }

    /// <summary>Registers <paramref name="baseAsset"/>/<paramref name="quoteAsset"/> with the exchange's usual spelling.</summary>
    public Instrument Register(string exchange, string baseAsset, string quoteAsset, decimal tickSize, decimal stepSize, decimal minNotional)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(exchange);
        ArgumentException.ThrowIfNullOrWhiteSpace(baseAsset);
        ArgumentException.ThrowIfNullOrWhiteSpace(quoteAsset);
        var b = baseAsset.ToUpperInvariant();
        var q = quoteAsset.ToUpperInvariant();
        var ex = exchange.ToLowerInvariant();
        var instrument = new Instrument(ex, ExchangeSymbolFor(ex, b, q), b + q, b, q, tickSize, stepSize, minNotional);
        Register(instrument);
        return instrument;
    }

    /// <summary>How an exchange spells base/quote: <c>BTCUSDT</c> on Binance (and by default), <c>BTC-USDT</c> on OKX.</summary>
    public static string ExchangeSymbolFor(string exchange, string baseAsset, string quoteAsset) =>
        string.Equals(exchange, Exchanges.Okx, StringComparison.OrdinalIgnoreCase)
            ? $"{baseAsset}-{quoteAsset}"
            : baseAsset + quoteAsset;

    private UnknownInstrumentException Unknown(string exchange, string symbol)
    {
        if (!IsKnownExchange(exchange))
        {
            return new UnknownInstrumentException(
                $"Unknown exchange '{exchange}'; known: {string.Join(", ", KnownExchanges)}.");
        }

        return new UnknownInstrumentException($"Unknown symbol '{symbol}' on {exchange}.");
    }

    private static void Validate(Instrument i)
    {
        static void Require(bool ok, string message)
        {
            if (!ok)
            {
                throw new ArgumentException(message, "instrument");
            }
        }

        Require(!string.IsNullOrWhiteSpace(i.Exchange) && i.Exchange == i.Exchange.ToLowerInvariant(),
            $"Exchange '{i.Exchange}' must be a non-empty lower-case id.");
        Require(!string.IsNullOrWhiteSpace(i.BaseAsset) && i.BaseAsset == i.BaseAsset.ToUpperInvariant(),
            $"Base asset '{i.BaseAsset}' must be non-empty upper case.");
        Require(!string.IsNullOrWhiteSpace(i.QuoteAsset) && i.QuoteAsset == i.QuoteAsset.ToUpperInvariant(),
            $"Quote asset '{i.QuoteAsset}' must be non-empty upper case.");
        Require(i.Symbol == i.BaseAsset + i.QuoteAsset,
            $"Symbol '{i.Symbol}' must be base + quote ('{i.BaseAsset}{i.QuoteAsset}').");
        Require(!string.IsNullOrWhiteSpace(i.ExchangeSymbol), "Exchange symbol must be non-empty.");
        if (i.Exchange is Exchanges.Binance or Exchanges.Okx)
        {
            var expected = ExchangeSymbolFor(i.Exchange, i.BaseAsset, i.QuoteAsset);
            Require(string.Equals(i.ExchangeSymbol, expected, StringComparison.OrdinalIgnoreCase),
                $"On {i.Exchange} {i.Symbol} is spelled '{expected}', not '{i.ExchangeSymbol}'.");
        }

        Require(i.TickSize > 0, $"Tick size must be positive, was {i.TickSize}.");
        Require(i.StepSize > 0, $"Step size must be positive, was {i.StepSize}.");
        Require(i.MinNotional >= 0, $"Minimum notional must not be negative, was {i.MinNotional}.");
    }

    /// <summary>Immutable snapshot of the table; replaced as a whole on every registration.</summary>
    private sealed class Table
    {
        public static readonly Table Empty = new(
            new Dictionary<string, Dictionary<string, Instrument>>(StringComparer.OrdinalIgnoreCase),
            new Dictionary<string, Dictionary<string, Instrument>>(StringComparer.OrdinalIgnoreCase));

        private Table(
            Dictionary<string, Dictionary<string, Instrument>> byExchangeSymbol,
            Dictionary<string, Dictionary<string, Instrument>> bySymbol)
        {
            ByExchangeSymbol = byExchangeSymbol;
            BySymbol = bySymbol;
            All = [.. bySymbol.Values.SelectMany(s => s.Values)
                .OrderBy(i => i.Exchange, StringComparer.Ordinal)
                .ThenBy(i => i.Symbol, StringComparer.Ordinal)];
            Exchanges = [.. bySymbol.Keys.Order(StringComparer.Ordinal)];
        }

        public Dictionary<string, Dictionary<string, Instrument>> ByExchangeSymbol { get; }

        public Dictionary<string, Dictionary<string, Instrument>> BySymbol { get; }

        public IReadOnlyList<Instrument> All { get; }

        public IReadOnlyList<string> Exchanges { get; }

        public Table With(Instrument instrument)
        {
            var byExchangeSymbol = Copy(ByExchangeSymbol);
            var bySymbol = Copy(BySymbol);
            var spellings = GetOrAdd(byExchangeSymbol, instrument.Exchange);
            var symbols = GetOrAdd(bySymbol, instrument.Exchange);

            // A replaced instrument may have had another spelling: drop it so the old name stops resolving.
            if (symbols.TryGetValue(instrument.Symbol, out var previous))
            {
                spellings.Remove(previous.ExchangeSymbol);
            }

            spellings[instrument.ExchangeSymbol] = instrument;
            symbols[instrument.Symbol] = instrument;
            return new Table(byExchangeSymbol, bySymbol);
        }

        private static Dictionary<string, Dictionary<string, Instrument>> Copy(Dictionary<string, Dictionary<string, Instrument>> source)
        {
            var copy = new Dictionary<string, Dictionary<string, Instrument>>(StringComparer.OrdinalIgnoreCase);
            foreach (var (exchange, symbols) in source)
            {
                copy[exchange] = new Dictionary<string, Instrument>(symbols, StringComparer.OrdinalIgnoreCase);
            }

            return copy;
        }

        private static Dictionary<string, Instrument> GetOrAdd(Dictionary<string, Dictionary<string, Instrument>> map, string exchange)
        {
            if (!map.TryGetValue(exchange, out var symbols))
            {
                symbols = new Dictionary<string, Instrument>(StringComparer.OrdinalIgnoreCase);
                map[exchange] = symbols;
            }

            return symbols;
        }
    }
}
