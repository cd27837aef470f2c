using NATS.Client.JetStream.Models;

namespace QuantTrader.Contracts.Messaging;

/// <summary>
/// JetStream streams from DESIGN.md §2. Each is created (or updated) at start-up by the service that owns it;
/// creating it again is harmless.
/// </summary>
public static class Streams
{
    /// <summary>Raw trades: bounded by age and size, persistence keeps them for good.</summary>
    public static StreamConfig MarketRaw() => new("MARKET_RAW", [Subjects.MarketRawAll, Subjects.MarketHistoryAll, "market.gap.>"])
    {
        Storage = StreamConfigStorage.File,
        MaxAge = TimeSpan.FromHours(24),
        MaxBytes = 8L * 1024 * 1024 * 1024,
        // A reconnecting connector re-sends recent trades; the server drops them by Nats-Msg-Id within this window.
        DuplicateWindow = TimeSpan.FromMinutes(5),
        Discard = StreamConfigDiscard.Old,
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
