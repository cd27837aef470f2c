using NATS.Client.JetStream.Models;

namespace QuantTrader.Contracts.Messaging;

/// <summary>
/// JetStream streams from DESIGN.md §2. Each is created (or updated) at start-up by the service that owns it;
/// creating it again is harmless.
/// </summary>
public static class Streams
{
    /// <summary>
    /// Live trades (and gap notices): bounded by age and size, persistence keeps them for good. Only the ingestor's live
    /// feed writes here; imported history has its own stream (<see cref="MarketHistory"/>), so an import can never push
    /// out live trades that consumers have not read yet.
    /// </summary>
    public static StreamConfig MarketRaw() => new("MARKET_RAW", [Subjects.MarketRawAll, "market.gap.>"])
    {
        Storage = StreamConfigStorage.File,
        MaxAge = TimeSpan.FromHours(24),
        MaxBytes = 8L * 1024 * 1024 * 1024,
        // A reconnecting connector re-sends recent trades; the server drops them by Nats-Msg-Id within this window.
        DuplicateWindow = TimeSpan.FromMinutes(5),
        Discard = StreamConfigDiscard.Old,
    };

    /// <summary>
    /// Imported trades (<c>market.history.&gt;</c>). Full, it refuses new messages (<see cref="StreamConfigDiscard.New"/>)
    /// instead of dropping old ones: an import then waits and fails, naming the stream, rather than evicting history the
    /// kline service or persistence have not read. Its own size, beside MARKET_RAW's: history never takes live's room.
    /// Create it after <see cref="MarketRaw"/>: a MARKET_RAW of an older version still listed <c>market.history.&gt;</c>.
    /// </summary>
    public static StreamConfig MarketHistory() => new("MARKET_HISTORY", [Subjects.MarketHistoryAll])
    {
        Storage = StreamConfigStorage.File,
        MaxAge = TimeSpan.FromHours(24),
        MaxBytes = 4L * 1024 * 1024 * 1024,
        DuplicateWindow = TimeSpan.FromMinutes(5),
        Discard = StreamConfigDiscard.New,
    };

    public static StreamConfig MarketKline() => new("MARKET_KLINE", [Subjects.MarketKlineAll])
    {
        Storage = StreamConfigStorage.File,
        MaxAge = TimeSpan.FromDays(7),
        DuplicateWindow = TimeSpan.FromMinutes(5),
    };

    /// <summary>Orders and fills are the user's money: kept until persistence and analytics have them (no age limit).</summary>
    public static StreamConfig Trading() => new("TRADING", [Subjects.TradingAll])
    {
        Storage = StreamConfigStorage.File,
        DuplicateWindow = TimeSpan.FromMinutes(5),
    };

    public static StreamConfig Alerts() => new("ALERTS", [Subjects.AlertsAll])
    {
        Storage = StreamConfigStorage.File,
        DuplicateWindow = TimeSpan.FromMinutes(5),
    };

    public static StreamConfig DeadLetters() => new("DEADLETTER", ["deadletter.>"])
    {
        Storage = StreamConfigStorage.File,
        MaxAge = TimeSpan.FromDays(30),
    };
}
