using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Trading;
using QuantTrader.Trading.Accounts;
using QuantTrader.Trading.Matching;
using QuantTrader.Trading.Orders;
using QuantTrader.Trading.Positions;

namespace QuantTrader.Trading;

/// <summary>Why <see cref="PaperExchange.Submit"/> refused an order.</summary>
public enum SubmitRejection
{
    /// <summary>Accepted.</summary>
    None,

    /// <summary>The exchange and symbol is not traded here (problem field <c>symbol</c>).</summary>
    UnknownInstrument,

    /// <summary>Validation failed; see <see cref="SubmitResult.Errors"/>.</summary>
    Invalid,

    /// <summary>A market buy with no trade seen yet: its cost cannot be estimated.</summary>
    NoReferencePrice,

    /// <summary>Not enough free balance; see <see cref="SubmitResult.Funds"/>.</summary>
    InsufficientFunds,
}

/// <summary>The outcome of <see cref="PaperExchange.Submit"/>: the accepted order's event, or why it was refused.</summary>
public sealed record SubmitResult(
    SubmitRejection Rejection,
    OrderEvent? Order,
    IReadOnlyList<FieldError> Errors,
    ReserveOutcome? Funds)
{
    /// <summary>True when the order is in the book.</summary>
    public bool Accepted => Rejection == SubmitRejection.None;
}

/// <summary>Everything a <see cref="PaperExchange"/> holds, for restart.</summary>
public sealed record PaperExchangeSnapshot(
    LedgerSnapshot Ledger,
    IReadOnlyList<BookSnapshot> Books,
    IReadOnlyList<AccountFees> Fees,
    IReadOnlyList<AccountPortfolio> Portfolios);

/// <summary>Fee rates of one account in a snapshot.</summary>
public sealed record AccountFees(Guid UserId, FeeRates Rates);

/// <summary>Portfolio of one account in a snapshot.</summary>
public sealed record AccountPortfolio(Guid UserId, PortfolioSnapshot Portfolio);

/// <summary>
/// The whole paper-trading core wired together: validation, funds reservation, one <see cref="MatchingEngine"/> per
/// instrument, settlement of fills into the <see cref="Ledger"/> and the accounts' <see cref="Portfolio"/>s, and release of
/// locked funds when an order ends. Risk is not called here (it is a request/reply to another service): ask it before
/// <see cref="Submit"/>. Not thread-safe; the service should drive it from one loop (or shard by user with one ledger per shard).
/// </summary>
public sealed class PaperExchange
{
    private readonly Dictionary<string, MatchingEngine> _books = new(StringComparer.Ordinal);

    // The same books by (exchange, symbol): every print looks its book up, and building the "exchange:symbol" key for
    // it allocated a string per print (a backtest matches millions).
    private readonly Dictionary<(string Exchange, string Symbol), MatchingEngine> _byMarket = [];
    private MatchingEngine? _lastBook;
    private readonly Dictionary<Guid, FeeRates> _fees = [];
    private readonly Dictionary<Guid, Portfolio> _portfolios = [];

    /// <summary>Creates an exchange trading <paramref name="instruments"/>, with empty books and no accounts.</summary>
    public PaperExchange(IEnumerable<Instrument> instruments, ReservationPolicy? reservationPolicy = null)
        : this(instruments, reservationPolicy, new Ledger())
    {
    }

    private PaperExchange(IEnumerable<Instrument> instruments, ReservationPolicy? reservationPolicy, Ledger ledger)
    {
        ArgumentNullException.ThrowIfNull(instruments);
        foreach (var instrument in instruments)
        {
            var book = new MatchingEngine(instrument);
            _books.Add(instrument.Key, book);
            _byMarket.Add((instrument.Exchange, instrument.Symbol), book);
        }

        ReservationPolicy = reservationPolicy ?? ReservationPolicy.Default;
        Ledger = ledger;
    }

    /// <summary>Balances and reservations of every account.</summary>
    public Ledger Ledger { get; }

    /// <summary>How much an order locks.</summary>
    public ReservationPolicy ReservationPolicy { get; }

    /// <summary>The book of one market, or null if it is not traded here.</summary>
    public MatchingEngine? GetBook(string exchange, string symbol) => _byMarket.GetValueOrDefault((exchange, symbol));

    /// <summary>All books.</summary>
    public IEnumerable<MatchingEngine> Books => _books.Values;

    /// <summary>The account's fee rates (<see cref="FeeRates.Default"/> unless set).</summary>
    public FeeRates GetFeeRates(Guid userId) => _fees.GetValueOrDefault(userId) ?? FeeRates.Default;

    /// <summary>Sets the account's fee rates for orders accepted from now on.</summary>
    public void SetFeeRates(Guid userId, FeeRates rates)
    {
        ArgumentNullException.ThrowIfNull(rates);
        rates.EnsureValid();
        _fees[userId] = rates;
    }

    /// <summary>The account's positions and realized PnL.</summary>
    public Portfolio GetPortfolio(Guid userId)
    {
        if (!_portfolios.TryGetValue(userId, out var portfolio))
        {
            portfolio = new Portfolio();
            _portfolios[userId] = portfolio;
        }

        return portfolio;
    }

    /// <summary>Open orders of one user, across books.</summary>
    public IReadOnlyList<OrderEvent> GetOpenOrders(Guid userId) =>
        [.. _books.Values.SelectMany(b => b.GetOpenOrders(userId)).OrderBy(o => o.CreatedAt)];

    /// <summary>
    /// Validates, locks funds and places the order. Nothing changes when it is refused.
    /// </summary>
    /// <param name="order">The order (risk already accepted it).</param>
    /// <param name="referenceTrade">The last trade the caller knows of for this market, if newer than the book's.</param>
    public SubmitResult Submit(OrderRequest order, Trade? referenceTrade = null)
    {
        ArgumentNullException.ThrowIfNull(order);
        var book = GetBook(order.Exchange, order.Symbol);
        if (book is null)
        {
            return new SubmitResult(SubmitRejection.UnknownInstrument, null,
                [new FieldError("symbol", $"{order.Exchange}:{order.Symbol} is not traded here.")], null);
        }

        if (referenceTrade is not null && (referenceTrade.Exchange != order.Exchange || referenceTrade.Symbol != order.Symbol))
        {
            referenceTrade = null; // a price from another market says nothing about this one
        }

        var referencePrice = referenceTrade is not null && (book.LastTradeId is null || referenceTrade.TradeId > book.LastTradeId)
            ? referenceTrade.Price
            : book.LastPrice;
        var errors = OrderValidator.Validate(order, book.Instrument, referencePrice);
        if (errors.Count > 0)
        {
            return new SubmitResult(SubmitRejection.Invalid, null, errors, null);
        }

        var fees = GetFeeRates(order.UserId);
        var amount = ReservationPolicy.Compute(order, book.Instrument, fees, referencePrice);
        if (amount is null)
        {
            return new SubmitResult(SubmitRejection.NoReferencePrice, null,
                [new FieldError("type", "No trade has been seen on this market yet, so a market buy cannot be priced; use a limit order.")], null);
        }

        var funds = Ledger.TryReserve(order.Id, order.UserId, amount.Asset, amount.Amount);
        if (!funds.Reserved)
        {
            return new SubmitResult(SubmitRejection.InsufficientFunds, null, [new FieldError("quantity", funds.Reason!)], funds);
        }

        var budget = order.Side == OrderSide.Buy ? amount.Amount : (decimal?)null;
        var result = book.Submit(order, fees, budget, referenceTrade);
        return new SubmitResult(SubmitRejection.None, result.Updates[0], [], funds);
    }

    /// <summary>Cancels a user's open order and releases its funds. Null when it is not an open order of that user.</summary>
    public OrderEvent? Cancel(Guid userId, Guid orderId, DateTimeOffset at)
    {
        foreach (var book in _books.Values)
        {
            if (book.GetOpenOrder(orderId) is { } open)
            {
                if (open.UserId != userId)
                {
                    return null; // someone else's order looks exactly like an unknown one
                }

                var canceled = book.Cancel(orderId, at);
                Ledger.Release(orderId);
                return canceled;
            }
        }

        return null;
    }

    /// <summary>
    /// Feeds one trade to its book, settles the fills into balances and portfolios, and releases what ended orders still lock.
    /// A trade of an unknown market, or one already processed, returns <see cref="MatchResult.Empty"/>.
    /// </summary>
    public MatchResult OnTrade(Trade trade)
    {
        ArgumentNullException.ThrowIfNull(trade);
        var book = _lastBook;
        if (book is null
            || !string.Equals(book.Instrument.Exchange, trade.Exchange, StringComparison.Ordinal)
            || !string.Equals(book.Instrument.Symbol, trade.Symbol, StringComparison.Ordinal))
        {
            if (!_byMarket.TryGetValue((trade.Exchange, trade.Symbol), out book))
            {
                return MatchResult.Empty;
            }

            _lastBook = book; // prints come in runs of one market: a message's batch, a backtest's whole range
        }

        var result = book.OnTrade(trade);
        foreach (var fill in result.Fills)
        {
            Ledger.Settle(fill, book.Instrument);
            GetPortfolio(fill.UserId).Apply(fill);
        }

        foreach (var update in result.Updates)
        {
            if (update.Status is OrderStatus.Filled or OrderStatus.Canceled or OrderStatus.Expired or OrderStatus.Rejected)
            {
                Ledger.Release(update.Id);
            }
        }

        return result;
    }

    /// <summary>
    /// Feeds the trades of one MARKET_RAW message (a batch of one market, in trade-id order) one after another, exactly as
    /// if each had come alone: each print is its own liquidity (an order fills at most once on it, and the fills on it
    /// never add up to more than its quantity), an order placed before the call fills on every later print of the batch
    /// it qualifies for, and a stop triggered by one print fills from the next print of the same batch on.
    /// </summary>
    /// <returns>
    /// All fills in print order, then priority order; and every order event in the order they happened — an order changed
    /// by several prints has one event per print (partially filled, then filled), the same events single-trade messages
    /// would have produced. Trades already processed, or of an unknown market, add nothing.
    /// </returns>
    public MatchResult OnTrades(IReadOnlyList<Trade> trades)
    {
        ArgumentNullException.ThrowIfNull(trades);
        if (trades.Count == 1)
        {
            return OnTrade(trades[0]);
        }

        List<FillEvent>? fills = null;
        List<OrderEvent>? updates = null;
        foreach (var trade in trades)
        {
            var result = OnTrade(trade);
            if (result.Fills.Count > 0)
            {
                (fills ??= []).AddRange(result.Fills);
            }

            if (result.Updates.Count > 0)
            {
                (updates ??= []).AddRange(result.Updates);
            }
        }

        return fills is null && updates is null ? MatchResult.Empty : new MatchResult(fills ?? [], updates ?? []);
    }

    /// <summary>The full state, for restart.</summary>
    public PaperExchangeSnapshot Snapshot() => new(
        Ledger.Snapshot(),
        [.. _books.OrderBy(b => b.Key, StringComparer.Ordinal).Select(b => b.Value.Snapshot())],
        [.. _fees.OrderBy(f => f.Key).Select(f => new AccountFees(f.Key, f.Value))],
        [.. _portfolios.OrderBy(p => p.Key).Select(p => new AccountPortfolio(p.Key, p.Value.Snapshot()))]);

    /// <summary>Rebuilds an exchange from <see cref="Snapshot"/>; instruments without a snapshot start empty.</summary>
    public static PaperExchange Restore(IEnumerable<Instrument> instruments, PaperExchangeSnapshot snapshot, ReservationPolicy? reservationPolicy = null)
    {
        ArgumentNullException.ThrowIfNull(instruments);
        ArgumentNullException.ThrowIfNull(snapshot);
        var list = instruments.ToList();
        var exchange = new PaperExchange(list, reservationPolicy, Ledger.Restore(snapshot.Ledger));
        foreach (var book in snapshot.Books)
        {
            var key = $"{book.Exchange}:{book.Symbol}";
            var instrument = list.FirstOrDefault(i => i.Key == key)
                ?? throw new ArgumentException($"Snapshot has a book for {key}, which is not among the instruments.", nameof(snapshot));
            var restored = MatchingEngine.Restore(instrument, book);
            exchange._books[key] = restored;
            exchange._byMarket[(instrument.Exchange, instrument.Symbol)] = restored;
            exchange._lastBook = null;
        }

        foreach (var f in snapshot.Fees)
        {
            exchange._fees[f.UserId] = f.Rates;
        }

        foreach (var p in snapshot.Portfolios)
        {
            exchange._portfolios[p.UserId] = Portfolio.Restore(p.Portfolio);
        }

        return exchange;
    }
}
