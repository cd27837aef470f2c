using System.Globalization;
using QuantTrader.Contracts.Trading;

namespace QuantTrader.Trading.Accounts;

/// <summary>One asset of one account. <see cref="Locked"/> is reserved by open orders; <see cref="Free"/> can back new ones.</summary>
public readonly record struct AssetBalance(string Asset, decimal Free, decimal Locked)
{
    /// <summary>Free plus locked: what the account owns of this asset.</summary>
    public decimal Total => Free + Locked;
}

/// <summary>Funds locked for one open order. <see cref="Amount"/> is what is still locked (it shrinks as the order fills).</summary>
public sealed record Reservation(Guid OrderId, Guid UserId, string Asset, decimal Amount);

/// <summary>The answer to a reservation request: either the funds are locked, or the account lacks <see cref="Required"/> − <see cref="Available"/>.</summary>
public sealed record ReserveOutcome(bool Reserved, string Asset, decimal Required, decimal Available)
{
    /// <summary>A sentence a person can act on, for the problem details of a refused order; null when reserved.</summary>
    public string? Reason => Reserved
        ? null
        : string.Create(CultureInfo.InvariantCulture, $"Insufficient {Asset}: the order needs {Required} {Asset} free, the account has {Available} {Asset} free.");
}

/// <summary>Everything a <see cref="Ledger"/> holds, for restart.</summary>
public sealed record LedgerSnapshot(IReadOnlyList<LedgerAccountSnapshot> Accounts, IReadOnlyList<Reservation> Reservations);

/// <summary>One account in a <see cref="LedgerSnapshot"/>; <paramref name="FeesPaid"/> is the running total of fees per asset.</summary>
public sealed record LedgerAccountSnapshot(Guid UserId, IReadOnlyList<AssetBalance> Balances, IReadOnlyList<AssetBalance> FeesPaid);

/// <summary>
/// Paper balances per user and asset, split into free and locked.
/// <list type="bullet">
/// <item>An accepted order locks funds (<see cref="TryReserve"/>): a buy locks quote, a sell locks base.</item>
/// <item>A fill is paid from its order's lock (<see cref="Settle"/>): a buy spends <c>price × qty + fee</c> of locked quote and
/// credits <c>qty</c> base; a sell spends <c>qty</c> of locked base and credits <c>price × qty − fee</c> quote. Fees are always in quote.</item>
/// <item>A cancelled, expired or filled order gives back whatever is still locked for it (<see cref="Release"/>).</item>
/// </list>
/// Invariants, checked by the property tests: no balance is ever negative, and an account's locked amount of an asset is
/// exactly the sum of its reservations of that asset. Not thread-safe: one writer (the paper engine's book loop) owns it.
/// </summary>
public sealed class Ledger
{
    private readonly Dictionary<Guid, Account> _accounts = [];
    private readonly Dictionary<Guid, Reservation> _reservations = [];

    /// <summary>Adds <paramref name="amount"/> to the free balance, e.g. the starting paper balance of a new account.</summary>
    public void Deposit(Guid userId, string asset, decimal amount)
    {
        ArgumentException.ThrowIfNullOrEmpty(asset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(amount);
        var account = GetOrCreate(userId);
        account.Free[asset] = account.Free.GetValueOrDefault(asset) + amount;
    }

    /// <summary>The balance of one asset; zeros for an unknown account or asset.</summary>
    public AssetBalance GetBalance(Guid userId, string asset)
    {
        if (!_accounts.TryGetValue(userId, out var account))
        {
            return new AssetBalance(asset, 0m, 0m);
        }

        return new AssetBalance(asset, account.Free.GetValueOrDefault(asset), account.Locked.GetValueOrDefault(asset));
    }

    /// <summary>All assets the user has ever held, ordered by asset name.</summary>
    public IReadOnlyList<AssetBalance> GetBalances(Guid userId) =>
        _accounts.TryGetValue(userId, out var account) ? account.Balances() : [];

    /// <summary>Fees paid so far, per asset.</summary>
    public IReadOnlyList<AssetBalance> GetFeesPaid(Guid userId) =>
        _accounts.TryGetValue(userId, out var account)
            ? [.. account.Fees.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => new AssetBalance(f.Key, f.Value, 0m))]
            : [];

    /// <summary>Users with an account in this ledger.</summary>
    public IEnumerable<Guid> Users => _accounts.Keys;

    /// <summary>What is still locked for an order, or null when it holds nothing.</summary>
    public Reservation? GetReservation(Guid orderId) => _reservations.GetValueOrDefault(orderId);

    /// <summary>Every live reservation.</summary>
    public IEnumerable<Reservation> Reservations => _reservations.Values;

    /// <summary>
    /// Moves <paramref name="amount"/> of <paramref name="asset"/> from free to locked for <paramref name="orderId"/>,
    /// or reports insufficient funds and changes nothing.
    /// </summary>
    /// <exception cref="InvalidOperationException">The order already has a reservation.</exception>
    public ReserveOutcome TryReserve(Guid orderId, Guid userId, string asset, decimal amount)
    {
        ArgumentException.ThrowIfNullOrEmpty(asset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(amount);
        if (_reservations.ContainsKey(orderId))
        {
            throw new InvalidOperationException($"Order {orderId} already holds a reservation.");
        }

        var free = GetBalance(userId, asset).Free;
        if (free < amount)
        {
            return new ReserveOutcome(false, asset, amount, free);
        }

        var account = GetOrCreate(userId);
        account.Free[asset] = free - amount;
        account.Locked[asset] = account.Locked.GetValueOrDefault(asset) + amount;
        _reservations[orderId] = new Reservation(orderId, userId, asset, amount);
        return new ReserveOutcome(true, asset, amount, free);
    }

    /// <summary>Returns whatever is still locked for the order to free, and forgets the reservation. Returns the amount released (0 if none).</summary>
    public decimal Release(Guid orderId)
    {
        if (!_reservations.Remove(orderId, out var reservation))
        {
            return 0m;
        }

        var account = _accounts[reservation.UserId];
        account.Locked[reservation.Asset] -= reservation.Amount;
        account.Free[reservation.Asset] = account.Free.GetValueOrDefault(reservation.Asset) + reservation.Amount;
        return reservation.Amount;
    }

    /// <summary>
    /// Pays one fill from its order's reservation and credits the other asset (see the class remarks).
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// The order has no reservation, it is in the wrong asset, or the fill costs more than is locked. The matching engine caps
    /// fills to the order's budget, so this signals a bug, not a user error.
    /// </exception>
    public void Settle(FillEvent fill, Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(fill);
        ArgumentNullException.ThrowIfNull(instrument);
        if (!_reservations.TryGetValue(fill.OrderId, out var reservation))
        {
            throw new InvalidOperationException($"Fill {fill.Id} of order {fill.OrderId} has no reservation to pay from.");
        }

        var notional = fill.Price * fill.Quantity;
        var (spentAsset, spent, creditAsset, credit) = fill.Side == OrderSide.Buy
            ? (instrument.QuoteAsset, notional + fill.Fee, instrument.BaseAsset, fill.Quantity)
            : (instrument.BaseAsset, fill.Quantity, instrument.QuoteAsset, notional - fill.Fee);

        if (!string.Equals(reservation.Asset, spentAsset, StringComparison.Ordinal) || reservation.Amount < spent)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Fill {fill.Id} spends {spent} {spentAsset} but order {fill.OrderId} has {reservation.Amount} {reservation.Asset} locked."));
        }

        var account = _accounts[reservation.UserId];
        account.Locked[spentAsset] -= spent;
        account.Free[creditAsset] = account.Free.GetValueOrDefault(creditAsset) + credit;
        account.Locked.TryAdd(creditAsset, 0m);
        account.Fees[fill.FeeAsset] = account.Fees.GetValueOrDefault(fill.FeeAsset) + fill.Fee;
        _reservations[fill.OrderId] = reservation with { Amount = reservation.Amount - spent };
    }

    /// <summary>A copy of every balance and reservation, ordered so that two equal ledgers give equal snapshots.</summary>
    public LedgerSnapshot Snapshot() => new(
        [.. _accounts.OrderBy(a => a.Key).Select(a => new LedgerAccountSnapshot(a.Key, a.Value.Balances(),
            [.. a.Value.Fees.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => new AssetBalance(f.Key, f.Value, 0m))]))],
        [.. _reservations.Values.OrderBy(r => r.OrderId)]);

    /// <summary>Rebuilds a ledger from <see cref="Snapshot"/>.</summary>
    public static Ledger Restore(LedgerSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var ledger = new Ledger();
        foreach (var a in snapshot.Accounts)
        {
            var account = ledger.GetOrCreate(a.UserId);
            foreach (var b in a.Balances)
            {
                account.Free[b.Asset] = b.Free;
                account.Locked[b.Asset] = b.Locked;
            }

            foreach (var f in a.FeesPaid)
            {
                account.Fees[f.Asset] = f.Free;
            }
        }

        foreach (var r in snapshot.Reservations)
        {
            ledger._reservations[r.OrderId] = r;
        }

        return ledger;
    }

    private Account GetOrCreate(Guid userId)
    {
        if (!_accounts.TryGetValue(userId, out var account))
        {
            account = new Account();
            _accounts[userId] = account;
        }

        return account;
    }

    private sealed class Account
    {
        public Dictionary<string, decimal> Free { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, decimal> Locked { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, decimal> Fees { get; } = new(StringComparer.Ordinal);

        public IReadOnlyList<AssetBalance> Balances() =>
        [
            .. Free.Keys.Union(Locked.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal)
                .Select(asset => new AssetBalance(asset, Free.GetValueOrDefault(asset), Locked.GetValueOrDefault(asset))),
        ];
    }
}
