using QuantTrader.Contracts.MarketData;

namespace QuantTrader.MarketData.Parsing;

/// <summary>
/// What one exchange frame turned out to be. A frame is either fully understood (<see cref="TradesParsed"/>,
/// <see cref="ExchangeEvent"/>, <see cref="Pong"/>), deliberately not ours (<see cref="Ignored"/>), or
/// <see cref="Rejected"/> as a whole: a parser never hands out some trades of a frame it could not fully read.
/// </summary>
public abstract record ParseResult;

/// <summary>
/// One exchange trade and how many exchange trades it stands for: a Binance <c>aggTrade</c> is one record for
/// <c>l − f + 1</c> trades, which the kline trade count must honour (<see cref="Klines.KlineAggregator.OnTrade(Trade, int)"/>).
/// </summary>
public sealed record ParsedTrade(Trade Trade, int TradeCount = 1);

/// <summary>The frame carried trades, in exchange order.</summary>
public sealed record TradesParsed(IReadOnlyList<ParsedTrade> Trades) : ParseResult;

/// <summary>A well-formed frame that carries nothing we consume (klines, depth, subscription results).</summary>
public sealed record Ignored(string Reason) : ParseResult;

/// <summary>A frame that cannot be trusted; count it and keep it for inspection, never guess.</summary>
public sealed record Rejected(RejectKind Kind, string Reason) : ParseResult;

/// <summary>An exchange control reply: subscription ack, error, service notice.</summary>
public sealed record ExchangeEvent(
    ExchangeEventKind Kind,
    string? Code,
    string? Message,
    string? Channel,
    string? InstrumentId) : ParseResult;

/// <summary>The exchange's answer to a text <c>ping</c> (OKX).</summary>
public sealed record Pong : ParseResult
{
    public static Pong Instance { get; } = new();
}

public enum RejectKind
{
    /// <summary>Not JSON, or not the JSON shape the exchange documents.</summary>
    MalformedJson,

    /// <summary>A field a trade cannot do without is absent or of the wrong JSON type.</summary>
    MissingField,

    /// <summary>A price, quantity, id or time that is not a number.</summary>
    InvalidNumber,

    /// <summary>A number or enum that parses but makes no sense (zero price, unknown side, impossible count).</summary>
    InvalidValue,

    /// <summary>An instrument not in the <see cref="Normalization.SymbolNormalizer"/> table.</summary>
    UnknownSymbol,
}

public enum ExchangeEventKind
{
    Subscribed,
    Unsubscribed,
    Error,

    /// <summary>Service notice, e.g. OKX 64008: the connection will be closed for an upgrade in about 60 s.</summary>
    Notice,

    /// <summary>Any other control event (login, connection counts): logged, not acted on.</summary>
    Other,
}

/// <summary>An exchange's own kline (Binance <c>kline</c> event), returned by <see cref="BinanceMessageParser.ParseKline(string)"/>.</summary>
public sealed record KlineParsed(Kline Kline) : ParseResult;
