namespace QuantTrader.Contracts.Accounts;

/// <summary>
/// What a plan allows. Services enforce these for the caller (403 naming the limit, 429 for a concurrency cap).
/// The limits after <see cref="HistoryDays"/> have defaults so an identity issued without them (a service's own
/// token) still bounds its holder. <see cref="StreamConnections"/> and <see cref="StreamSubscriptions"/> bound the
/// streaming API (open WebSockets per user, subscriptions per connection; docs/streaming.md).
/// </summary>
public sealed record PlanLimits(
    int Alerts,
    int Strategies,
    int RequestsPerMinute,
    int HistoryDays,
    int ConcurrentBacktests = 1,
    long BacktestFuel = 20_000_000_000,
    int ConcurrentImports = 1,
    long ImportBytesPerDay = 256L * 1024 * 1024,
    int StreamConnections = 2,
    int StreamSubscriptions = 50);
