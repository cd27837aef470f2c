using QuantTrader.Contracts.Trading;
using QuantTrader.Trading.Accounts;

namespace QuantTrader.PaperEngine.Storage;

/// <summary>
/// Everything one engine step changed, captured as plain values while the engine held the state, so the write
/// (and any retry of it) stores exactly that step, in one transaction.
/// </summary>
public sealed class PersistBatch
{
    public List<AccountRow> Accounts { get; } = [];

    public List<(Guid OrderId, Reservation? Reservation)> Reservations { get; } = [];

    public List<(OrderEvent Order, int Version)> Orders { get; } = [];

    public List<FillEvent> Fills { get; } = [];

    public List<BookRow> Books { get; } = [];

    public List<OutboxMessage> Outbox { get; } = [];

    public bool IsEmpty => Accounts.Count == 0 && Reservations.Count == 0 && Orders.Count == 0 && Fills.Count == 0 && Books.Count == 0;
}

/// <summary>One account's full state: fee rates, portfolio (JSON) and every balance.</summary>
public sealed record AccountRow(Guid UserId, decimal MakerFeeRate, decimal TakerFeeRate, string PortfolioJson,
    IReadOnlyList<AssetBalance> Balances, IReadOnlyDictionary<string, decimal> FeesPaid);

/// <summary>One book's snapshot (JSON) and the MARKET_RAW sequence of the last trade applied to it.</summary>
public sealed record BookRow(string Exchange, string Symbol, ulong StreamSequence, string SnapshotJson);

/// <summary>An event to publish to TRADING after the transaction commits.</summary>
public sealed record OutboxMessage(string Subject, string MessageId, byte[] Payload);
