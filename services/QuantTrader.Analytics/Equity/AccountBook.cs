using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;
using QuantTrader.Trading.Positions;

namespace QuantTrader.Analytics.Equity;

/// <summary>What applying one fill did: whether it closed (part of) a position, and the PnL that realized.</summary>
public readonly record struct AppliedFill(bool Closes, decimal RealizedPnl, decimal EquityAfter);

/// <summary>
/// Each user's paper account as analytics sees it, rebuilt from fills: cash and positions (average cost, fees
/// included — <see cref="Portfolio"/>), marked to market.
/// <list type="bullet">
/// <item>cash starts at <see cref="AnalyticsOptions.StartingBalance"/>; a buy pays price × quantity + fee, a sell
/// receives price × quantity − fee (fees are in the quote asset).</item>
/// <item>equity = cash + Σ over open positions of quantity × mark, the mark being the market's latest closed 1m kline
/// close, or the last fill price in that market when no kline has been seen.</item>
/// </list>
/// Holds only the users of the partitions this replica owns (<see cref="Adopt"/> when it takes one, <see cref="Forget"/>
/// when it hands it over), so the equity snapshots it writes are its own users' only.
/// Thread-safe (one lock: fills are rare next to market data).
/// </summary>
public sealed class AccountBook(Marks marks, AnalyticsOptions options)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, Account> _accounts = [];

    /// <summary>
    /// Takes over a partition's users, rebuilt from their recorded fills in apply order; replaces whatever this
    /// replica held of them from an earlier ownership (another replica may have applied fills since).
    /// </summary>
    public void Adopt(int partition, IEnumerable<FillEvent> ledger)
    {
        var rebuilt = new Dictionary<Guid, Account>();
        foreach (var fill in ledger)
        {
            if (!rebuilt.TryGetValue(fill.UserId, out var account))
            {
                account = new Account(options.StartingBalance);
                rebuilt[fill.UserId] = account;
            }
            if (account.FillIds.Add(fill.Id))
            {
                ApplyTo(account, fill);
            }
        }
        lock (_lock)
        {
            ForgetLocked(partition);
            foreach (var (userId, account) in rebuilt)
            {
                _accounts[userId] = account;
            }
        }
    }

    /// <summary>Drops a partition's users: another replica owns them now.</summary>
    public void Forget(int partition)
    {
        lock (_lock)
        {
            ForgetLocked(partition);
        }
    }

    private void ForgetLocked(int partition)
    {
        foreach (var userId in _accounts.Keys.Where(id => Partitions.OfUser(id) == partition).ToList())
        {
            _accounts.Remove(userId);
        }
    }

    /// <summary>Applies a fill (once per fill id; a second time returns null).</summary>
    public AppliedFill? Apply(FillEvent fill)
    {
        lock (_lock)
        {
            if (!_accounts.TryGetValue(fill.UserId, out var account))
            {
                account = new Account(options.StartingBalance);
                _accounts[fill.UserId] = account;
            }
            if (!account.FillIds.Add(fill.Id))
            {
                return null;
            }
            return ApplyTo(account, fill);
        }
    }

    private AppliedFill ApplyTo(Account account, FillEvent fill)
    {
        var before = account.Portfolio.GetPosition(fill.Exchange, fill.Symbol).Quantity;
        var closes = before != 0m && Math.Sign(before) != (fill.Side == OrderSide.Buy ? 1 : -1);
        var realized = account.Portfolio.Apply(fill);
        var notional = fill.Price * fill.Quantity;
        account.Cash += fill.Side == OrderSide.Buy ? -(notional + fill.Fee) : notional - fill.Fee;
        account.LastFillPrice[Portfolio.Key(fill.Exchange, fill.Symbol)] = fill.Price;
        if (fill.Time > account.LastFillTime)
        {
            account.LastFillTime = fill.Time;
        }
        return new AppliedFill(closes, realized, EquityOf(account));
    }

    /// <summary>Equity of every user active at <paramref name="now"/> (holding a position or a recent fill).</summary>
    public List<(Guid UserId, decimal Equity)> ActiveEquities(DateTimeOffset now)
    {
        lock (_lock)
        {
            return [.. _accounts
                .Where(a => a.Value.Portfolio.OpenPositions.Count > 0 || now - a.Value.LastFillTime <= options.ActiveWindow)
                .Select(a => (a.Key, EquityOf(a.Value)))];
        }
    }

    public decimal? EquityOf(Guid userId)
    {
        lock (_lock)
        {
            return _accounts.TryGetValue(userId, out var a) ? EquityOf(a) : null;
        }
    }

    private decimal EquityOf(Account account)
    {
        var equity = account.Cash;
        foreach (var position in account.Portfolio.OpenPositions)
        {
            var key = Portfolio.Key(position.Exchange, position.Symbol);
            var mark = marks.TryGet(key, out var m) ? m : account.LastFillPrice.GetValueOrDefault(key);
            equity += position.Quantity * mark;
        }
        return equity;
    }

    private sealed class Account(decimal cash)
    {
        public Portfolio Portfolio { get; } = new();
        public decimal Cash { get; set; } = cash;
        public DateTimeOffset LastFillTime { get; set; } = DateTimeOffset.MinValue;
        public HashSet<Guid> FillIds { get; } = [];
        public Dictionary<string, decimal> LastFillPrice { get; } = new(StringComparer.Ordinal);
    }
}
