using QuantTrader.Contracts.Trading;

namespace QuantTrader.Trading.Positions;

/// <summary>
/// A position in one market. <see cref="Quantity"/> is signed (long &gt; 0, short &lt; 0; spot paper trading only goes short
/// if base was deposited and then sold). <see cref="CostBasis"/> is signed the same way: what the open quantity cost,
/// fees included.
/// </summary>
public sealed record Position(string Exchange, string Symbol, decimal Quantity, decimal CostBasis, decimal RealizedPnl)
{
    /// <summary>Average entry price, fees included; 0 when flat.</summary>
    public decimal AverageEntryPrice => Quantity == 0m ? 0m : CostBasis / Quantity;

    /// <summary>Unrealized PnL at <paramref name="markPrice"/>: what closing now (before the closing fee) would realize.</summary>
    public decimal UnrealizedPnl(decimal markPrice) => (Quantity * markPrice) - CostBasis;

    /// <summary>Signed market value at <paramref name="markPrice"/>.</summary>
    public decimal Notional(decimal markPrice) => Quantity * markPrice;
}

/// <summary>
/// Positions and realized PnL of one account, built from its fills with the <b>average cost method, fees included</b>:
/// <list type="bullet">
/// <item>A fill that opens or adds to a position adds its cost to the basis: a buy adds <c>price × qty + fee</c>, a sell (short)
/// adds <c>−(price × qty − fee)</c>. The average entry price is basis / quantity, so it already contains the opening fees.</item>
/// <item>A fill that reduces a position removes the average basis of the closed quantity and realizes
/// <c>proceeds − basis removed</c>, where proceeds are <c>price × qty − fee</c> for a sell and <c>−(price × qty + fee)</c> for a buy.
/// Closing fees therefore reduce realized PnL.</item>
/// <item>A fill that crosses zero is split pro rata (fee too): the closing part realizes, the rest opens the new side at its price.</item>
/// </list>
/// Realized PnL is also kept per UTC day of the fill's time (for the daily-loss risk limit). Not thread-safe.
/// </summary>
public sealed class Portfolio
{
    private readonly Dictionary<string, Position> _positions = new(StringComparer.Ordinal);
    private readonly Dictionary<DateOnly, decimal> _realizedByDay = [];

    /// <summary>Realized PnL over the account's life, fees included.</summary>
    public decimal RealizedPnl { get; private set; }

    /// <summary>Positions with a non-zero quantity, ordered by key.</summary>
    public IReadOnlyList<Position> OpenPositions =>
        [.. _positions.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value).Where(p => p.Quantity != 0m)];

    /// <summary>All positions ever held, flat ones included (they keep their realized PnL).</summary>
    public IReadOnlyList<Position> AllPositions => [.. _positions.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value)];

    /// <summary>The position in a market; a flat one if never traded.</summary>
    public Position GetPosition(string exchange, string symbol) =>
        _positions.GetValueOrDefault(Key(exchange, symbol)) ?? new Position(exchange, symbol, 0m, 0m, 0m);

    /// <summary>Realized PnL of fills whose time falls on <paramref name="day"/> (UTC).</summary>
    public decimal RealizedPnlOn(DateOnly day) => _realizedByDay.GetValueOrDefault(day);

    /// <summary>Applies one fill (the fee must be in the quote asset). Returns the PnL it realized.</summary>
    public decimal Apply(FillEvent fill)
    {
        ArgumentNullException.ThrowIfNull(fill);
        var key = Key(fill.Exchange, fill.Symbol);
        var position = _positions.GetValueOrDefault(key) ?? new Position(fill.Exchange, fill.Symbol, 0m, 0m, 0m);
        var sign = fill.Side == OrderSide.Buy ? 1m : -1m;
        var quantity = position.Quantity;
        var basis = position.CostBasis;
        var realized = 0m;

        // The part of the fill that reduces the current position (zero if flat or same direction).
        var closing = quantity != 0m && Math.Sign(quantity) != Math.Sign(sign) ? Math.Min(Math.Abs(quantity), fill.Quantity) : 0m;
        if (closing > 0m)
        {
            var fee = fill.Fee * closing / fill.Quantity;
            var proceeds = -sign * ((fill.Price * closing) + (sign * fee)); // sell: p·q − fee; buy: −(p·q + fee)
            var basisRemoved = closing == Math.Abs(quantity) ? basis : basis * closing / Math.Abs(quantity);
            realized = proceeds - basisRemoved;
            quantity += sign * closing;
            basis = quantity == 0m ? 0m : basis - basisRemoved;
        }

        var opening = fill.Quantity - closing;
        if (opening > 0m)
        {
            var fee = closing == 0m ? fill.Fee : fill.Fee - (fill.Fee * closing / fill.Quantity);
            basis += sign * (fill.Price * opening) + fee;
            quantity += sign * opening;
        }

        _positions[key] = position with { Quantity = quantity, CostBasis = basis, RealizedPnl = position.RealizedPnl + realized };
        RealizedPnl += realized;
        var day = DateOnly.FromDateTime(fill.Time.UtcDateTime);
        _realizedByDay[day] = _realizedByDay.GetValueOrDefault(day) + realized;
        return realized;
    }

    /// <summary>Sum of unrealized PnL of open positions, each marked at its price from <paramref name="markPrices"/> (key <c>exchange:SYMBOL</c>).</summary>
    public decimal UnrealizedPnl(IReadOnlyDictionary<string, decimal> markPrices)
    {
        ArgumentNullException.ThrowIfNull(markPrices);
        return OpenPositions.Sum(p => markPrices.TryGetValue(Key(p.Exchange, p.Symbol), out var mark) ? p.UnrealizedPnl(mark) : 0m);
    }

    /// <summary>
    /// Equity in the valuation asset (USDT): every balance's total (free + locked) times its price in that asset.
    /// The valuation asset itself counts at 1; an asset without a price is left out and listed in <see cref="Equity.Unpriced"/>.
    /// Balances already contain what positions hold, so positions are not added again.
    /// </summary>
    public static Equity Value(IEnumerable<Accounts.AssetBalance> balances, string valuationAsset, IReadOnlyDictionary<string, decimal> assetPrices)
    {
        ArgumentNullException.ThrowIfNull(balances);
        ArgumentNullException.ThrowIfNull(assetPrices);
        var total = 0m;
        var unpriced = new List<string>();
        foreach (var b in balances)
        {
            if (string.Equals(b.Asset, valuationAsset, StringComparison.Ordinal))
            {
                total += b.Total;
            }
            else if (assetPrices.TryGetValue(b.Asset, out var price))
            {
                total += b.Total * price;
            }
            else if (b.Total != 0m)
            {
                unpriced.Add(b.Asset);
            }
        }

        return new Equity(total, valuationAsset, unpriced);
    }

    /// <summary>The key of a market: <c>exchange:SYMBOL</c>.</summary>
    public static string Key(string exchange, string symbol) => $"{exchange}:{symbol}";

    /// <summary>A copy of the positions and daily realized PnL, for restart.</summary>
    public PortfolioSnapshot Snapshot() => new(
        AllPositions,
        [.. _realizedByDay.OrderBy(d => d.Key).Select(d => new DailyPnl(d.Key, d.Value))],
        RealizedPnl);

    /// <summary>Rebuilds a portfolio from <see cref="Snapshot"/>.</summary>
    public static Portfolio Restore(PortfolioSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var portfolio = new Portfolio { RealizedPnl = snapshot.RealizedPnl };
        foreach (var p in snapshot.Positions)
        {
            portfolio._positions[Key(p.Exchange, p.Symbol)] = p;
        }

        foreach (var d in snapshot.RealizedByDay)
        {
            portfolio._realizedByDay[d.Day] = d.RealizedPnl;
        }

        return portfolio;
    }
}

/// <summary>Equity of an account in <paramref name="Asset"/>; <paramref name="Unpriced"/> lists held assets without a price.</summary>
public sealed record Equity(decimal Value, string Asset, IReadOnlyList<string> Unpriced);

/// <summary>Realized PnL of one UTC day.</summary>
public sealed record DailyPnl(DateOnly Day, decimal RealizedPnl);

/// <summary>Everything a <see cref="Portfolio"/> holds.</summary>
public sealed record PortfolioSnapshot(IReadOnlyList<Position> Positions, IReadOnlyList<DailyPnl> RealizedByDay, decimal RealizedPnl);
