using System.Text.Json;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.Contracts.MarketData;

/// <summary>
/// The payload of a message on <c>market.raw.{exchange}.{SYMBOL}</c> (and <c>market.history.…</c>): one trade as a JSON
/// object, or several trades of that one market as a JSON array, in trade-id order.
/// <para>Why several: every JetStream message costs the server, and every consumer, a fixed few microseconds whatever it
/// carries; with one trade per message that fixed cost is most of what the system spends per trade
/// (docs/benchmarks.md). The ingestor therefore puts the trades of a market that are waiting to be published at the
/// same moment into one message — one when the feed is quiet (no added latency: nothing waits for company), up to
/// <see cref="MaxPerMessage"/> under load. docs/architecture.md ("Trades on the bus") records this change to
/// DESIGN.md's one message per trade.</para>
/// <para>De-duplication: a one-trade message keeps <c>Nats-Msg-Id = {exchange}:{SYMBOL}:{tradeId}</c>; a batch is
/// <c>{exchange}:{SYMBOL}:{firstId}-{lastId}</c>, so a re-send of the same message is still dropped by JetStream. The
/// ingestor never publishes a trade id twice in the first place (its sequencer drops ids at or below the last one
/// published), and consumers stay idempotent by key.</para>
/// </summary>
public static class TradeMessages
{
    /// <summary>At most this many trades in one message (~35 KB of JSON, far below NATS's 1 MB payload limit).</summary>
    public const int MaxPerMessage = 200;

    /// <summary>
    /// Splits trades into messages: per market, in the order given (which is trade-id order), at most
    /// <paramref name="maxPerMessage"/> each. Markets keep their first-seen order; the relative order of different
    /// markets does not matter to anyone (each market is its own subject).
    /// </summary>
    public static List<Trade[]> Group(IReadOnlyList<Trade> trades, int maxPerMessage = MaxPerMessage)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerMessage, 1);
        var messages = new List<Trade[]>();
        if (trades.Count == 0)
        {
            return messages;
        }
        if (trades.Count == 1 || maxPerMessage == 1)
        {
            foreach (var trade in trades)
            {
                messages.Add([trade]);
            }
            return messages;
        }

        var markets = new Dictionary<(string Exchange, string Symbol), List<Trade>>();
        var order = new List<List<Trade>>();
        foreach (var trade in trades)
        {
            if (!markets.TryGetValue((trade.Exchange, trade.Symbol), out var list))
            {
                list = [];
                markets.Add((trade.Exchange, trade.Symbol), list);
                order.Add(list);
            }
            list.Add(trade);
        }
        foreach (var list in order)
        {
            foreach (var chunk in list.Chunk(maxPerMessage))
            {
                messages.Add(chunk);
            }
        }
        return messages;
    }

    /// <summary>The payload: a JSON object for one trade (the shape every consumer has always read), an array for more.</summary>
    public static byte[] Encode(IReadOnlyList<Trade> trades) => trades.Count == 0
        ? throw new ArgumentException("A message carries at least one trade.", nameof(trades))
        : TradeJson.Encode(trades, asArray: trades.Count > 1);

    /// <summary>The JetStream de-duplication id of a message carrying these trades (see the class remarks).</summary>
    public static string MessageId(IReadOnlyList<Trade> trades) => trades.Count == 1
        ? trades[0].MessageId
        : $"{trades[0].Exchange}:{trades[0].Symbol}:{trades[0].TradeId}-{trades[^1].TradeId}";

    /// <summary>
    /// The trades of a payload, object or array. Throws <see cref="JsonException"/> for anything else (a consumer
    /// dead-letters or skips that message as it did for an undecodable single trade); an empty array is no trades.
    /// A null element is refused the same way.
    /// </summary>
    public static Trade[] Decode(ReadOnlySpan<byte> data)
    {
        if (TradeJson.TryRead(data, out var fast))
        {
            return fast;
        }

        // Not the shape we write (other letter case, numbers as strings, a missing field…): the serializer decides.
        var first = FirstToken(data);
        if (first == (byte)'[')
        {
            var trades = JsonSerializer.Deserialize(data, ContractsJsonContext.Wire.TradeArray)
                ?? throw new JsonException("A trade message was JSON null.");
            foreach (var trade in trades)
            {
                if (trade is null)
                {
                    throw new JsonException("A trade message's array holds a null.");
                }
            }
            return trades;
        }
        var single = JsonSerializer.Deserialize(data, ContractsJsonContext.Wire.Trade)
            ?? throw new JsonException("A trade message was JSON null.");
        return [single];
    }

    private static byte FirstToken(ReadOnlySpan<byte> data)
    {
        foreach (var b in data)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return b;
            }
        }
        return 0;
    }
}
