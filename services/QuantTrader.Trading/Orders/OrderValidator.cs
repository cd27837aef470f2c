using System.Globalization;
using QuantTrader.Contracts.Trading;

namespace QuantTrader.Trading.Orders;

/// <summary>
/// Static checks of an order against the instrument's exchange rules, before risk and funds are looked at: the one
/// rulebook of an order, whether it comes over REST, from a strategy over NATS or from a backtest. Every error names
/// the JSON field it is about, so the REST layer can put it into problem details as is.
/// </summary>
public static class OrderValidator
{
    /// <summary>
    /// The largest quantity, price or stop price any order may carry, whatever the symbol: a notional (price ×
    /// quantity, at most 1e24) and the sums over a book stay far inside <see cref="decimal"/>'s range (7.9e28).
    /// </summary>
    public const decimal MaxValue = 1_000_000_000_000m;

    /// <summary>The longest client order id: it is stored with the order and indexed per user (Binance allows 36).</summary>
    public const int MaxClientOrderIdLength = 64;

    /// <summary>
    /// Validates <paramref name="order"/> for <paramref name="instrument"/>.
    /// </summary>
    /// <param name="order">The request.</param>
    /// <param name="instrument">Exchange, symbol and rules the order must fit.</param>
    /// <param name="referencePrice">
    /// Last trade price, used for the minimum-notional check of market orders (stop-market orders use their stop price).
    /// When it is unknown the market order's minimum notional is not checked here.
    /// </param>
    /// <returns>An empty list when the order is valid.</returns>
    public static IReadOnlyList<FieldError> Validate(OrderRequest order, Instrument instrument, decimal? referencePrice = null)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(instrument);
        var errors = new List<FieldError>();
        var rules = instrument.Rules;

        if (!string.Equals(order.Exchange, instrument.Exchange, StringComparison.Ordinal))
        {
            errors.Add(new("exchange", $"Order is for exchange '{order.Exchange}', this book is '{instrument.Exchange}'."));
        }

        if (!string.Equals(order.Symbol, instrument.Symbol, StringComparison.Ordinal))
        {
            errors.Add(new("symbol", $"Order is for symbol '{order.Symbol}', this book is '{instrument.Symbol}'."));
        }

        if (!Enum.IsDefined(order.Side))
        {
            errors.Add(new("side", "Side must be buy or sell."));
        }

        if (!Enum.IsDefined(order.Type))
        {
            errors.Add(new("type", "Type must be market, limit, stop_market or stop_limit."));
        }

        if (!Enum.IsDefined(order.TimeInForce))
        {
            errors.Add(new("timeInForce", "Time in force must be gtc, ioc or fok."));
        }

        if (order.ClientOrderId is { } clientOrderId
            && (clientOrderId.Length == 0 || clientOrderId.Length > MaxClientOrderIdLength || clientOrderId.Any(char.IsControl)))
        {
            errors.Add(new("clientOrderId", $"clientOrderId must be 1 to {MaxClientOrderIdLength} printable characters."));
        }

        if (order.Quantity <= 0m)
        {
            errors.Add(new("quantity", "Quantity must be greater than zero."));
        }
        else if (order.Quantity > MaxValue)
        {
            errors.Add(new("quantity", $"Quantity must be at most {Format(MaxValue)}."));
        }
        else if (!IsMultiple(order.Quantity, rules.StepSize))
        {
            errors.Add(new("quantity", $"Quantity {Format(order.Quantity)} is not a multiple of the step size {Format(rules.StepSize)}."));
        }

        if (order.HasLimit)
        {
            CheckPrice("price", order.Price, rules, errors);
        }
        else if (order.Price is not null)
        {
            errors.Add(new("price", $"A {Describe(order.Type)} order takes no price."));
        }

        if (order.IsStop)
        {
            CheckPrice("stopPrice", order.StopPrice, rules, errors);
        }
        else if (order.StopPrice is not null)
        {
            errors.Add(new("stopPrice", $"A {Describe(order.Type)} order takes no stop price."));
        }

        if (errors.Count == 0 && rules.MinNotional > 0m)
        {
            // The price the order would trade at, as far as we can know it now.
            var price = order.Type switch
            {
                OrderType.Limit or OrderType.StopLimit => order.Price,
                OrderType.StopMarket => order.StopPrice,
                _ => referencePrice,
            };
            if (price is { } p && p * order.Quantity < rules.MinNotional)
            {
                // Named on quantity: raising it is the fix that always works, whatever the order type.
                errors.Add(new("quantity",
                    $"Notional {Format(p * order.Quantity)} is below the minimum notional {Format(rules.MinNotional)}."));
            }
        }

        return errors;
    }

    private static void CheckPrice(string field, decimal? value, InstrumentRules rules, List<FieldError> errors)
    {
        if (value is not { } price)
        {
            errors.Add(new(field, $"{field} is required for this order type."));
        }
        else if (price <= 0m)
        {
            errors.Add(new(field, $"{field} must be greater than zero."));
        }
        else if (price > MaxValue)
        {
            errors.Add(new(field, $"{field} must be at most {Format(MaxValue)}."));
        }
        else if (!IsMultiple(price, rules.TickSize))
        {
            errors.Add(new(field, $"{field} {Format(price)} is not a multiple of the tick size {Format(rules.TickSize)}."));
        }
    }

    /// <summary>True when <paramref name="value"/> lies on the grid of <paramref name="increment"/> (no grid when increment is 0).</summary>
    public static bool IsMultiple(decimal value, decimal increment) => increment <= 0m || value % increment == 0m;

    private static string Describe(OrderType type) => type switch
    {
        OrderType.Market => "market",
        OrderType.Limit => "limit",
        OrderType.StopMarket => "stop_market",
        OrderType.StopLimit => "stop_limit",
        _ => type.ToString(),
    };

    private static string Format(decimal value) => value.ToString(CultureInfo.InvariantCulture);
}
