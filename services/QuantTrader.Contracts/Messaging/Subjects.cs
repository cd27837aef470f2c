namespace QuantTrader.Contracts.Messaging;

/// <summary>
/// Subject names from DESIGN.md §1. Exchanges are lower case, symbols normalized upper case. Trades and klines end in
/// their market's partition (<see cref="Partitions.OfMarket"/>), which DESIGN.md does not have: the replicas of a
/// partitioned service each consume only their partitions' subjects (<c>market.raw.*.*.{partition}</c>), filtered by
/// the server, with the single filter subject NATS 2.9 supports (docs/scaling.md).
/// </summary>
public static class Subjects
{
    public static string MarketRaw(string exchange, string symbol) => $"market.raw.{exchange}.{symbol}.{Partitions.OfMarket(exchange, symbol)}";
    public const string MarketRawAll = "market.raw.>";

    /// <summary>The live trades of every market in one partition.</summary>
    public static string MarketRawPartition(int partition) => $"market.raw.*.*.{partition}";

    /// <summary>History imports: the same trades, kept apart so they never fire live alerts or fills.</summary>
    public static string MarketHistory(string exchange, string symbol) => $"market.history.{exchange}.{symbol}.{Partitions.OfMarket(exchange, symbol)}";
    public const string MarketHistoryAll = "market.history.>";

    public static string MarketHistoryPartition(int partition) => $"market.history.*.*.{partition}";

    public static string MarketKline(string exchange, string interval, string symbol) => $"market.kline.{exchange}.{interval}.{symbol}.{Partitions.OfMarket(exchange, symbol)}";
    public const string MarketKlineAll = "market.kline.>";

    /// <summary>The closed klines of every market and interval in one partition.</summary>
    public static string MarketKlinePartition(int partition) => $"market.kline.*.*.*.{partition}";

    /// <summary>The closed klines of one interval of every market (any partition).</summary>
    public static string MarketKlineInterval(string interval) => $"market.kline.*.{interval}.*.*";

    /// <summary>
    /// Updates of the open (in-progress) kline, on core NATS, outside every stream: "latest state wins" by nature, read
    /// by persistence (the current candle in the database) and live views; closed klines stay on
    /// <see cref="MarketKline"/> in MARKET_KLINE (docs/klines.md).
    /// </summary>
    public static string MarketCandle(string exchange, string interval, string symbol) => $"market.candle.{exchange}.{interval}.{symbol}";

    public const string MarketCandleAll = "market.candle.>";

    /// <summary>Gaps the ingestor could not fill: never silent.</summary>
    public static string MarketGap(string exchange, string symbol) => $"market.gap.{exchange}.{symbol}";

    public static string TradingOrder(Guid userId) => $"trading.order.{userId:N}.{Partitions.OfUser(userId)}";
    public static string TradingFill(Guid userId) => $"trading.fill.{userId:N}.{Partitions.OfUser(userId)}";

    /// <summary>The fills of every user in one partition (<see cref="Partitions.OfUser"/>).</summary>
    public static string TradingFillPartition(int partition) => $"trading.fill.*.{partition}";
    public const string TradingAll = "trading.>";

    public static string AlertsFired(Guid userId) => $"alerts.fired.{userId:N}";
    public const string AlertsAll = "alerts.>";

    /// <summary>
    /// Core NATS request/reply between the alert service's replicas: a rule of this market partition was stored or
    /// deleted (payload: its id); the partition's owner applies it and answers. Not under <c>alerts.</c>, which the
    /// ALERTS stream captures (and persistence archives as fired alerts).
    /// </summary>
    public static string AlertRulesChanged(int partition) => $"alert.rules.{partition}";
    public const string AlertRulesChangedAll = "alert.rules.>";

    /// <summary>Request/reply, core NATS: no answer within the timeout means reject.</summary>
    public const string RiskCheck = "risk.check";

    /// <summary>Request/reply into the paper engine, for orders that do not come over REST (strategies).</summary>
    public const string TradingSubmit = "paper.submit";
    public const string TradingCancel = "paper.cancel";

    /// <summary>
    /// Core NATS: a strategy's status change or log line, published by the strategy runner after storing it, for the
    /// streaming API's <c>strategies</c> channel (live only: the database is the record, read over REST).
    /// </summary>
    public static string StrategyEvents(Guid userId) => $"strategies.events.{userId:N}";
    public const string StrategyEventsAll = "strategies.events.>";

    /// <summary>Core NATS: a user's keys or plan changed (payload: user id); the gateway drops its cache for them.</summary>
    public const string AccountsChanged = "accounts.changed";

    /// <summary>Messages a consumer could not process, with the reason in a header.</summary>
    public static string DeadLetter(string consumer) => $"deadletter.{consumer}";
}
