using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Trading;
using QuantTrader.Trading.Orders;
using static QuantTrader.Trading.Tests.Build;

namespace QuantTrader.Trading.Tests;

/// <summary>
/// Random sequences of orders, cancels, prints and redelivered prints, run through the whole core (validation, reservation,
/// matching, settlement). The invariants are checked after every step.
/// </summary>
public sealed class PaperExchangeProperties
{
    private const decimal StartUsdt = 1_000m;
    private const decimal StartBtc = 3m;

    private static readonly Guid[] Users = [Alice, Bob, new("00000000-0000-0000-0000-00000000000c")];

    private static readonly FeeRates[] UserFees = [FeeRates.Default, new(0m, 0.002m), new(0.0005m, 0.00075m)];

    private static readonly Instrument Market = BtcUsdt;

    [Property(MaxTest = 300)]
    public Property Fills_never_exceed_the_print_or_the_order_and_no_order_fills_twice_on_one_print() =>
        Prop.ForAll(Scenarios(), steps =>
        {
            var run = new Run();
            var seen = new HashSet<(Guid, long)>();
            var filledPerOrder = new Dictionary<Guid, decimal>();
            foreach (var step in steps)
            {
                if (run.Apply(step) is not TradeOutcome outcome)
                {
                    continue;
                }

                Assert.True(outcome.Fills.Sum(f => f.Quantity) <= outcome.Trade.Quantity, "fills exceed the print");
                foreach (var fill in outcome.Fills)
                {
                    Assert.True(seen.Add((fill.OrderId, fill.TradeId)), "an order filled twice on one print");
                    Assert.Equal(outcome.Trade.TradeId, fill.TradeId);
                    filledPerOrder[fill.OrderId] = filledPerOrder.GetValueOrDefault(fill.OrderId) + fill.Quantity;
                    var order = run.Orders[fill.OrderId];
                    Assert.True(filledPerOrder[fill.OrderId] <= order.Quantity, "fills exceed the order");
                    if (order.Price is { } limit)
                    {
                        Assert.True(order.Side == OrderSide.Buy ? fill.Price <= limit : fill.Price >= limit, "filled through its limit");
                    }

                    if (fill.Liquidity == Liquidity.Taker)
                    {
                        Assert.Equal(outcome.Trade.Price, fill.Price);
                    }
                }
            }
        });

    [Property(MaxTest = 300)]
    public Property Balances_never_go_negative_locks_match_open_orders_and_value_is_conserved() =>
        Prop.ForAll(Scenarios(), steps =>
        {
            var run = new Run();
            foreach (var step in steps)
            {
                run.Apply(step);
                run.CheckInvariants();
            }
        });

    [Property(MaxTest = 200)]
    public Property Snapshot_and_restore_mid_sequence_give_identical_results() =>
        Prop.ForAll(Scenarios(), Gen.Choose(0, 100).ToArbitrary(), (steps, percent) =>
        {
            var split = steps.Count * percent / 100;
            var straight = new Run();
            var expected = steps.Select(s => Describe(straight.Apply(s))).ToList();

            var restarted = new Run();
            var actual = steps.Take(split).Select(s => Describe(restarted.Apply(s))).ToList();
            restarted.Restart(); // through JSON, as the service would store it
            actual.AddRange(steps.Skip(split).Select(s => Describe(restarted.Apply(s))));

            Assert.Equal(expected, actual);
            Assert.Equal(JsonSerializer.Serialize(straight.Exchange.Snapshot()), JsonSerializer.Serialize(restarted.Exchange.Snapshot()));
        });

    private static string Describe(object? outcome) => JsonSerializer.Serialize(outcome);

    private static Arbitrary<IReadOnlyList<Step>> Scenarios()
    {
        var submit =
            from user in Gen.Choose(0, Users.Length - 1)
            from buy in Gen.Elements(true, false)
            from type in Gen.Elements(OrderType.Market, OrderType.Limit, OrderType.Limit, OrderType.StopMarket, OrderType.StopLimit)
            from tif in Gen.Elements(TimeInForce.Gtc, TimeInForce.Gtc, TimeInForce.Ioc, TimeInForce.Fok)
            from quantity in Gen.Choose(1, 200)
            from price in Gen.Choose(0, 40)
            from stop in Gen.Choose(0, 40)
            select (Step)new SubmitStep(user, buy, type, tif, quantity, price, stop);
        var cancel = Gen.Choose(0, 1000).Select(pick => (Step)new CancelStep(pick));
        var trade =
            from price in Gen.Choose(0, 40)
            from quantity in Gen.Choose(1, 150)
            select (Step)new TradeStep(price, quantity);
        var redeliver = Gen.Choose(0, 1000).Select(pick => (Step)new RedeliverStep(pick));
        var step = Gen.Frequency((4, submit), (1, cancel), (5, trade), (1, redeliver));
        return Gen.ListOf(step).Select(list => (IReadOnlyList<Step>)[.. list]).ToArbitrary();
    }

    private static decimal PriceAt(int offset) => 90m + (offset * 0.5m);

    /// <summary>One random run, with what the invariants need to know about it.</summary>
    private sealed class Run
    {
        private readonly List<Trade> _trades = [];
        private readonly List<Guid> _submitted = [];
        private readonly Dictionary<(Guid, string), decimal> _bought = [];
        private long _nextTradeId = 2;

        public Run()
        {
            Exchange = new PaperExchange([Market]);
            for (var i = 0; i < Users.Length; i++)
            {
                Exchange.Ledger.Deposit(Users[i], "USDT", StartUsdt);
                Exchange.Ledger.Deposit(Users[i], "BTC", StartBtc);
                Exchange.SetFeeRates(Users[i], UserFees[i]);
            }

            var first = new Trade("binance", "BTCUSDT", 1, 100m, 1m, TakerSide.Buy, T0);
            _trades.Add(first);
            Exchange.OnTrade(first);
        }

        public PaperExchange Exchange { get; private set; }

        public Dictionary<Guid, OrderRequest> Orders { get; } = [];

        public object? Apply(Step step)
        {
            switch (step)
            {
                case SubmitStep s:
                    var id = new Guid($"00000000-0000-0000-0002-{Orders.Count:D12}");
                    var type = s.Type;
                    var order = new OrderRequest(
                        id, Users[s.User], null, null, "binance", "BTCUSDT", s.Buy ? OrderSide.Buy : OrderSide.Sell, type, s.Tif,
                        s.Quantity * 0.01m,
                        type is OrderType.Limit or OrderType.StopLimit ? PriceAt(s.Price) : null,
                        type is OrderType.StopMarket or OrderType.StopLimit ? PriceAt(s.Stop) : null,
                        T0.AddSeconds(_nextTradeId));
                    Orders[id] = order;
                    var result = Exchange.Submit(order);
                    if (result.Accepted)
                    {
                        _submitted.Add(id);
                    }

                    return result;
                case CancelStep c when _submitted.Count > 0:
                    var target = Orders[_submitted[c.Pick % _submitted.Count]];
                    return Exchange.Cancel(target.UserId, target.Id, T0.AddSeconds(_nextTradeId));
                case TradeStep t:
                    var trade = new Trade("binance", "BTCUSDT", _nextTradeId, PriceAt(t.Price), t.Quantity * 0.01m, TakerSide.Sell,
                        T0.AddSeconds(_nextTradeId));
                    _nextTradeId++;
                    return Deliver(trade);
                case RedeliverStep r:
                    return Deliver(_trades[r.Pick % _trades.Count]);
                default:
                    return null;
            }
        }

        public void Restart()
        {
            var json = JsonSerializer.Serialize(Exchange.Snapshot());
            Exchange = PaperExchange.Restore([Market], JsonSerializer.Deserialize<PaperExchangeSnapshot>(json)!);
        }

        public void CheckInvariants()
        {
            var book = Exchange.GetBook("binance", "BTCUSDT")!;
            var open = book.GetOpenOrders().Select(o => o.Id).ToHashSet();
            foreach (var reservation in Exchange.Ledger.Reservations)
            {
                Assert.True(open.Contains(reservation.OrderId), "funds still locked for an order that ended");
                Assert.True(reservation.Amount >= 0m, "negative reservation");
            }

            foreach (var user in Users)
            {
                foreach (var balance in Exchange.Ledger.GetBalances(user))
                {
                    Assert.True(balance.Free >= 0m && balance.Locked >= 0m, $"negative {balance.Asset} balance: {balance}");
                    var reserved = Exchange.Ledger.Reservations.Where(r => r.UserId == user && r.Asset == balance.Asset).Sum(r => r.Amount);
                    Assert.Equal(reserved, balance.Locked);
                }

                // Conservation: every USDT is still held, paid as a fee, or exchanged for BTC at the fill price, and back.
                var usdt = Exchange.Ledger.GetBalance(user, "USDT").Total;
                var btc = Exchange.Ledger.GetBalance(user, "BTC").Total;
                var fees = Exchange.Ledger.GetFeesPaid(user).Where(f => f.Asset == "USDT").Sum(f => f.Free);
                var boughtQuote = _bought.GetValueOrDefault((user, "quote"));
                var boughtBase = _bought.GetValueOrDefault((user, "base"));
                Assert.Equal(StartUsdt, usdt + fees + boughtQuote);
                Assert.Equal(StartBtc, btc - boughtBase);
            }
        }

        private TradeOutcome Deliver(Trade trade)
        {
            if (!_trades.Contains(trade))
            {
                _trades.Add(trade);
            }

            var result = Exchange.OnTrade(trade);
            foreach (var fill in result.Fills)
            {
                var sign = fill.Side == OrderSide.Buy ? 1m : -1m;
                _bought[(fill.UserId, "quote")] = _bought.GetValueOrDefault((fill.UserId, "quote")) + (sign * fill.Price * fill.Quantity);
                _bought[(fill.UserId, "base")] = _bought.GetValueOrDefault((fill.UserId, "base")) + (sign * fill.Quantity);
            }

            return new TradeOutcome(trade, result.Fills, result.Updates);
        }
    }

    private sealed record TradeOutcome(Trade Trade, IReadOnlyList<FillEvent> Fills, IReadOnlyList<OrderEvent> Updates);

    /// <summary>One generated action.</summary>
    public abstract record Step;

    private sealed record SubmitStep(int User, bool Buy, OrderType Type, TimeInForce Tif, int Quantity, int Price, int Stop) : Step;

    private sealed record CancelStep(int Pick) : Step;

    private sealed record TradeStep(int Price, int Quantity) : Step;

    private sealed record RedeliverStep(int Pick) : Step;
}
