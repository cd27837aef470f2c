using Npgsql;

namespace QuantTrader.LoadTest.Failover;

/// <summary>What the failover run left in PostgreSQL, checked against what was sent and against itself.</summary>
public sealed record AuditFigures
{
    public long Expected { get; init; }
    public long Lost { get; init; }
    public long Duplicated { get; init; }
    public int KlinesCompared { get; init; }
    public int KlinesDiffering { get; init; }
    public bool KlinesEqual => KlinesDiffering == 0 && KlinesCompared > 0;
    public long FiringsDoubledByTrigger { get; init; }
    public long OnceRulesFiredAgain { get; init; }
    public long WebhooksDeliveredAgain { get; init; }

    /// <summary>Requests repeating a key (at-least-once delivery after a kill); dropped by the receiver, not an error.</summary>
    public long WebhookRepeatsOnTheWire { get; init; }
    public long AlertsDouble => FiringsDoubledByTrigger + OnceRulesFiredAgain + WebhooksDeliveredAgain;
    public long AlertsExpected { get; init; }
    public long AlertsFired { get; init; }
    public long WebhooksMissing { get; init; }
    public long Fills { get; init; }
    public long FillsDouble { get; init; }
    public long PrintsOverfilled { get; init; }
    public int BalancesChecked { get; init; }
    public List<string> BalanceMismatches { get; init; } = [];
    public bool BalancesOk => BalanceMismatches.Count == 0 && BalancesChecked > 0;
    public long StrategyOrders { get; init; }
    public long StrategyOrdersDouble { get; init; }
    public long StrategyKlinesClosed { get; init; }
}

/// <summary>
/// The checks of the failover run (each a query over the stored rows):
/// <list type="bullet">
/// <item>trades: every id the simulator printed in the window stored once (its ids are sequential per market);</item>
/// <item>closed 1m klines equal to a recomputation from the stored trades (open/close by trade id, high, low, volumes,
/// trade count, taker-buy volumes), for every market and minute of the run;</item>
/// <item>alerts: no two firings of one rule for one trigger (rule, market, time, price), no <c>once</c> rule fired twice,
/// no webhook taking effect twice (a firing arriving under two idempotency keys); and every expected firing present;</item>
/// <item>fills: none twice for one (order, print), in the engine's table and in persistence's; no print filling the
/// resting orders for more than its quantity; every balance equal to the opening one plus the fills, exactly;</item>
/// <item>the strategy: one order per kline it saw, none twice.</item>
/// </list>
/// </summary>
public sealed class FailoverAudit(NpgsqlDataSource db)
{
    public async Task<AuditFigures> RunAsync(LoadWindow window, DateTimeOffset from, DateTimeOffset to, TradingScenario scenario,
        WebhookReceiver webhooks, CancellationToken ct)
    {
        var (count, distinct) = await LoadRun.CountStoredAsync(db, window.Start, window.End, ct);
        var expected = window.Start.Sum(kv => window.End[kv.Key] - kv.Value);
        var (compared, differing) = await KlinesAsync(from, to, ct);
        var users = scenario.Users.Select(u => u.UserId).ToArray();
        var rules = scenario.Rules.Keys.ToArray();
        var once = scenario.Rules.Where(r => r.Value.Repeat == "once").Select(r => r.Key).ToArray();

        var doubledByTrigger = await ScalarAsync("""
            SELECT coalesce(sum(n - 1), 0) FROM (
              SELECT count(*) AS n FROM alert_firings WHERE alert_id = ANY($1)
              GROUP BY alert_id, exchange, symbol, time, price HAVING count(*) > 1) d
            """, ct, rules);
        var onceAgain = await ScalarAsync("""
            SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM alert_firings WHERE alert_id = ANY($1) GROUP BY alert_id HAVING count(*) > 1) d
            """, ct, once);
        var fired = await ScalarAsync("SELECT count(*) FROM alert_firings WHERE alert_id = ANY($1)", ct, rules);
        var eventIds = await ListAsync("SELECT event_id::text FROM alert_firings WHERE alert_id = ANY($1) AND webhook_url IS NOT NULL", ct, rules);
        var effects = webhooks.EffectsPerEvent;
        var webhooksAgain = effects.Values.Sum(n => (long)Math.Max(0, n - 1));
        var webhooksMissing = eventIds.Count(id => !effects.ContainsKey(id));

        // The engine's own rows, and persistence's copy from the fill events.
        var fills = await ScalarAsync("SELECT count(*) FROM paper_fills WHERE user_id = ANY($1)", ct, users);
        var fillsDouble = await ScalarAsync("SELECT count(*) - count(DISTINCT (order_id, trade_id)) FROM paper_fills WHERE user_id = ANY($1)", ct, users)
            + await ScalarAsync("SELECT count(*) - count(DISTINCT (order_id, trade_id)) FROM fills WHERE user_id = ANY($1)", ct, users);
        // Resting (maker) orders share each print: together they may take no more than its quantity.
        var overfilled = await ScalarAsync("""
            SELECT count(*) FROM (
              SELECT exchange, symbol, trade_id, sum(quantity) AS q FROM paper_fills
              WHERE user_id = ANY($1) AND lower(liquidity) = 'maker' GROUP BY exchange, symbol, trade_id) f
            JOIN trades t ON t.exchange = f.exchange AND t.symbol = f.symbol AND t.trade_id = f.trade_id
            WHERE f.q > t.quantity
            """, ct, users);

        var (checkedBalances, mismatches) = await BalancesAsync(scenario, ct);
        var (strategyOrders, strategyDouble, klinesClosed) = await StrategyAsync(scenario, to, ct);

        return new AuditFigures
        {
            Expected = expected,
            Lost = Math.Max(0, expected - distinct),
            Duplicated = count - distinct,
            KlinesCompared = compared,
            KlinesDiffering = differing,
            FiringsDoubledByTrigger = doubledByTrigger,
            OnceRulesFiredAgain = onceAgain,
            WebhooksDeliveredAgain = webhooksAgain,
            WebhookRepeatsOnTheWire = webhooks.RepeatsOnTheWire,
            AlertsExpected = ExpectedFirings(scenario),
            AlertsFired = fired,
            WebhooksMissing = webhooksMissing,
            Fills = fills,
            FillsDouble = fillsDouble,
            PrintsOverfilled = overfilled,
            BalancesChecked = checkedBalances,
            BalanceMismatches = mismatches,
            StrategyOrders = strategyOrders,
            StrategyOrdersDouble = strategyDouble,
            StrategyKlinesClosed = klinesClosed,
        };
    }

    /// <summary>Once rules once (if their direction was pulsed at all), repeating rules once per pulse of their direction on their market.</summary>
    public static long ExpectedFirings(TradingScenario scenario) => scenario.Rules.Values.Sum(rule =>
    {
        var market = Array.FindIndex(TradingScenario.Markets, m => m.Exchange == rule.Exchange && m.Symbol == rule.Symbol);
        var pulses = scenario.Pulses[market, rule.Above ? 1 : 0];
        return rule.Repeat == "once" ? Math.Min(1, pulses) : pulses;
    });

    /// <summary>Firings stored for the scenario's rules so far (to wait for them to settle).</summary>
    public Task<long> FiredAsync(TradingScenario scenario, CancellationToken ct) =>
        ScalarAsync("SELECT count(*) FROM alert_firings WHERE alert_id = ANY($1)", ct, scenario.Rules.Keys.ToArray());

    /// <summary>Closed 1m klines stored for [from, to) (to wait for the last ones).</summary>
    public Task<long> ClosedKlinesAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken ct) =>
        ScalarAsync("SELECT count(*) FROM klines WHERE interval = '1m' AND closed AND open_time >= $1 AND open_time < $2", ct, from, to);

    /// <summary>Every minute of [from, to) with trades or a non-empty closed kline: (compared, differing).</summary>
    private async Task<(int, int)> KlinesAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        await using var query = db.CreateCommand("""
            WITH recomputed AS (
              SELECT exchange, symbol, date_trunc('minute', time) AS open_time,
                     (array_agg(price ORDER BY trade_id))[1] AS open, max(price) AS high, min(price) AS low,
                     (array_agg(price ORDER BY trade_id DESC))[1] AS close,
                     sum(quantity) AS volume, sum(price * quantity) AS quote_volume, sum(count) AS trades,
                     coalesce(sum(quantity) FILTER (WHERE lower(side) = 'buy'), 0) AS taker_buy_volume,
                     coalesce(sum(price * quantity) FILTER (WHERE lower(side) = 'buy'), 0) AS taker_buy_quote_volume
              FROM trades WHERE time >= $1 AND time < $2 GROUP BY 1, 2, 3),
            stored AS (
              SELECT exchange, symbol, open_time, open, high, low, close, volume, quote_volume, trades, taker_buy_volume, taker_buy_quote_volume
              FROM klines WHERE interval = '1m' AND closed AND trades > 0 AND open_time >= $1 AND open_time < $2)
            SELECT count(*),
                   count(*) FILTER (WHERE s.open_time IS NULL OR r.open_time IS NULL
                     OR (r.open, r.high, r.low, r.close, r.volume, r.quote_volume, r.trades, r.taker_buy_volume, r.taker_buy_quote_volume)
                        IS DISTINCT FROM (s.open, s.high, s.low, s.close, s.volume, s.quote_volume, s.trades, s.taker_buy_volume, s.taker_buy_quote_volume))
            FROM recomputed r FULL JOIN stored s USING (exchange, symbol, open_time)
            """);
        query.Parameters.Add(new() { Value = from });
        query.Parameters.Add(new() { Value = to });
        await using var reader = await query.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return ((int)reader.GetInt64(0), (int)reader.GetInt64(1));
    }

    /// <summary>Each trader's balance per asset against the opening balance plus every fill (base and quote of the market, the fee in its asset).</summary>
    private async Task<(int, List<string>)> BalancesAsync(TradingScenario scenario, CancellationToken ct)
    {
        var mismatches = new List<string>();
        var checkedCount = 0;
        foreach (var user in scenario.Users)
        {
            var expected = new Dictionary<string, decimal>(scenario.OpeningBalances[user.UserId]);
            await using (var fills = db.CreateCommand("SELECT symbol, lower(side), price, quantity, fee, fee_asset FROM paper_fills WHERE user_id = $1"))
            {
                fills.Parameters.Add(new() { Value = user.UserId });
                await using var reader = await fills.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    var symbol = reader.GetString(0);
                    var (baseAsset, quoteAsset) = (symbol[..^4], symbol[^4..]); // every market here is quoted in USDT
                    var sign = reader.GetString(1) == "buy" ? 1m : -1m;
                    var (price, quantity, fee) = (reader.GetDecimal(2), reader.GetDecimal(3), reader.GetDecimal(4));
                    expected[baseAsset] = expected.GetValueOrDefault(baseAsset) + sign * quantity;
                    expected[quoteAsset] = expected.GetValueOrDefault(quoteAsset) - sign * price * quantity;
                    expected[reader.GetString(5)] = expected.GetValueOrDefault(reader.GetString(5)) - fee;
                }
            }
            var actual = new Dictionary<string, decimal>();
            await using (var balances = db.CreateCommand("SELECT asset, free + locked FROM paper_balances WHERE user_id = $1"))
            {
                balances.Parameters.Add(new() { Value = user.UserId });
                await using var reader = await balances.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    actual[reader.GetString(0)] = reader.GetDecimal(1);
                }
            }
            foreach (var asset in expected.Keys.Union(actual.Keys))
            {
                checkedCount++;
                if (expected.GetValueOrDefault(asset) != actual.GetValueOrDefault(asset))
                {
                    mismatches.Add($"{user.UserId:N} {asset}: stored {actual.GetValueOrDefault(asset)}, opening + fills {expected.GetValueOrDefault(asset)}");
                }
            }
        }
        return (checkedCount, mismatches);
    }

    /// <summary>The strategy's orders, how many name a kline twice, and how many 1m klines of its market closed while it ran.</summary>
    private async Task<(long, long, long)> StrategyAsync(TradingScenario scenario, DateTimeOffset to, CancellationToken ct)
    {
        if (scenario.StrategyId is not { } id || scenario.StrategyStarted is not { } started)
        {
            return (0, 0, 0);
        }
        var orders = await ScalarAsync("SELECT count(*) FROM paper_orders WHERE strategy_id = $1", ct, id);
        var doubled = await ScalarAsync("SELECT count(*) - count(DISTINCT coalesce(client_order_id, id::text)) FROM paper_orders WHERE strategy_id = $1", ct, id);
        var closed = await ScalarAsync("""
            SELECT count(*) FROM klines WHERE exchange = 'binance' AND symbol = $1 AND interval = '1m' AND closed
            AND open_time >= $2 AND open_time < $3
            """, ct, TradingScenario.StrategySymbol, started, to);
        return (orders, doubled, closed);
    }

    private async Task<long> ScalarAsync(string sql, CancellationToken ct, params object[] args)
    {
        await using var command = db.CreateCommand(sql);
        foreach (var a in args)
        {
            command.Parameters.Add(new() { Value = a });
        }
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<List<string>> ListAsync(string sql, CancellationToken ct, params object[] args)
    {
        await using var command = db.CreateCommand(sql);
        foreach (var a in args)
        {
            command.Parameters.Add(new() { Value = a });
        }
        var list = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            list.Add(reader.GetString(0));
        }
        return list;
    }
}
