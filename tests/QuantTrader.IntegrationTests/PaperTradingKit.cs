using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// What the paper-trading tests share: a real NATS connection to inject trades into MARKET_RAW exactly as the
/// ingestor publishes them, and to read the orders and fills the engine publishes to TRADING. Each test trades its
/// own market so that orders left by one test never take liquidity from another's prints.
/// </summary>
public sealed class PaperTradingKit : IAsyncDisposable
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(60); // a bound, not a pause: generous for slower CI machines

    // Increasing across the run and larger than any earlier run's ids: trade ids increase per market.
    private static long _nextTradeId = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;

    private PaperTradingKit(NatsConnection nats)
    {
        Nats = nats;
        Js = new NatsJSContext(nats);
    }

    public NatsConnection Nats { get; }

    public INatsJSContext Js { get; }

    public static async Task<PaperTradingKit> ConnectAsync(SystemFixture system)
    {
        var nats = new NatsConnection(new NatsOpts { Url = await system.ConnectionStringAsync("nats") });
        await nats.ConnectAsync();
        return new PaperTradingKit(nats);
    }

    /// <summary>Publishes one live trade; returns it (its id is new unless given).</summary>
    /// <remarks>A trade re-sent with the same id needs a different message id (<paramref name="redelivery"/>), or JetStream drops it.</remarks>
    public async Task<Trade> TradeAsync(string exchange, string symbol, decimal price, decimal quantity, long? tradeId = null, bool redelivery = false)
    {
        var trade = new Trade(exchange, symbol, tradeId ?? Interlocked.Increment(ref _nextTradeId), price, quantity, TakerSide.Buy, DateTimeOffset.UtcNow);
        await PublishOnceAsync(Subjects.MarketRaw(exchange, symbol), JsonSerializer.SerializeToUtf8Bytes(trade, ContractsJsonContext.Wire.Trade),
            redelivery ? $"{trade.MessageId}:again:{Guid.NewGuid():N}" : trade.MessageId);
        return trade;
    }

    /// <summary>
    /// Publishes several live trades of one market in one message, as the ingestor does under load: a JSON array in
    /// trade-id order (<see cref="TradeMessages.Encode"/>), <c>Nats-Msg-Id</c> {exchange}:{SYMBOL}:{firstId}-{lastId}.
    /// Each (price, quantity) gets a new, increasing trade id; returns the trades in message order.
    /// </summary>
    public async Task<Trade[]> TradesAsync(string exchange, string symbol, params (decimal Price, decimal Quantity)[] prints)
    {
        var now = DateTimeOffset.UtcNow;
        Trade[] trades = [.. prints.Select(p => new Trade(exchange, symbol, Interlocked.Increment(ref _nextTradeId), p.Price, p.Quantity, TakerSide.Buy, now))];
        await PublishAsync(trades);
        return trades;
    }

    /// <summary>Publishes these trades of one market as one message (see <see cref="TradesAsync"/>).</summary>
    /// <remarks>The same trades re-sent need a different message id (<paramref name="redelivery"/>), or JetStream drops them.</remarks>
    public async Task PublishAsync(IReadOnlyList<Trade> trades, bool redelivery = false)
    {
        var id = TradeMessages.MessageId(trades);
        await PublishOnceAsync(Subjects.MarketRaw(trades[0].Exchange, trades[0].Symbol), TradeMessages.Encode(trades),
            redelivery ? $"{id}:again:{Guid.NewGuid():N}" : id);
    }

    /// <summary>
    /// Publishes until the stream acknowledges, as the ingestor does: while a NATS node dies or a leader is elected an
    /// acknowledgement can fail to come, and the same message id makes a second publish of a stored message a no-op.
    /// </summary>
    private async Task PublishOnceAsync(string subject, byte[] payload, string messageId)
    {
        var deadline = DateTimeOffset.UtcNow + Wait;
        while (true)
        {
            try
            {
                var ack = await Js.PublishAsync(subject, payload, opts: new NatsJSPubOpts { MsgId = messageId });
                ack.EnsureSuccess();
                return;
            }
            catch (Exception ex) when (ex is NatsJSPublishNoResponseException or NatsNoRespondersException or NatsJSApiException { Error.Code: 503 }
                && DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }
    }

    /// <summary>How many messages TRADING holds on one subject (counts what the engine published, duplicates included).</summary>
    public async Task<ulong> CountAsync(string subject)
    {
        var stream = await Js.GetStreamAsync(Streams.Trading().Name!, new StreamInfoRequest { SubjectsFilter = subject });
        return stream.Info.State.Subjects is { } subjects && subjects.TryGetValue(subject, out var n) ? (ulong)n : 0UL;
    }

    /// <summary>Waits until TRADING holds at least <paramref name="count"/> messages on the subject, then reads them all in order.</summary>
    public async Task<List<T>> ReadAsync<T>(string subject, int count, JsonTypeInfo<T> type)
    {
        await Eventually.SucceedsAsync(async () => Assert.True(await CountAsync(subject) >= (ulong)count, $"{subject}: fewer than {count} events"), Wait);

        // Direct reads "next message on this subject from sequence n": no consumer needed (NATS 2.9 refuses the
        // filtered consumer create request NATS.Net sends).
        var stream = await Js.GetStreamAsync(Streams.Trading().Name!);
        var list = new List<T>();
        ulong next = 1;
        while (true)
        {
            StreamMsgGetResponse response;
            try
            {
                response = await stream.GetAsync(new StreamMsgGetRequest { NextBySubj = subject, Seq = next });
            }
            catch (NatsJSApiException ex) when (ex.Error.Code == 404)
            {
                return list;
            }

            list.Add(JsonSerializer.Deserialize(response.Message.Data.Span, type)!);
            next = response.Message.Seq + 1;
        }
    }

    public static async Task<(HttpStatusCode Status, JsonElement Body)> PlaceAsync(HttpClient client, object order)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/orders", order);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    public static async Task<JsonElement> PortfolioAsync(HttpClient client) => await client.GetFromJsonAsync<JsonElement>("/api/v1/portfolio");

    public static (decimal Free, decimal Locked) Balance(JsonElement portfolio, string asset)
    {
        foreach (var b in portfolio.GetProperty("balances").EnumerateArray())
        {
            if (b.GetProperty("asset").GetString() == asset)
            {
                return (b.GetProperty("free").GetDecimal(), b.GetProperty("locked").GetDecimal());
            }
        }

        return (0m, 0m);
    }

    public ValueTask DisposeAsync() => Nats.DisposeAsync();
}
