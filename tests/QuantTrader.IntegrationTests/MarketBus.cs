using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Net;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.IntegrationTests;

/// <summary>The test's own NATS connection: publishes trades the way the ingestor does and reads klines back.</summary>
public sealed class MarketBus : IAsyncDisposable
{
    private readonly NatsConnection _connection;

    private MarketBus(NatsConnection connection)
    {
        _connection = connection;
        Js = connection.CreateJetStreamContext();
    }

    public INatsJSContext Js { get; }

    /// <summary>
    /// Starts listening to a market's open-kline updates (core NATS, no stream: only what is published from now on);
    /// dispose the returned subscription to stop. The updates collect in <paramref name="into"/>.
    /// </summary>
    public async Task<IAsyncDisposable> ListenToOpenKlinesAsync(string exchange, string interval, string symbol, List<Kline> into)
    {
        var subscription = await _connection.SubscribeCoreAsync<byte[]>(Subjects.MarketCandle(exchange, interval, symbol));
        var reading = Task.Run(async () =>
        {
            await foreach (var msg in subscription.Msgs.ReadAllAsync())
            {
                if (msg.Data is { } data && JsonSerializer.Deserialize(data, ContractsJsonContext.Wire.Kline) is { } kline)
                {
                    lock (into)
                    {
                        into.Add(kline);
                    }
                }
            }
        });
        return new Listening(subscription, reading);
    }

    private sealed class Listening(INatsSub<byte[]> subscription, Task reading) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await subscription.DisposeAsync();
            await reading.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    public static async Task<MarketBus> ConnectAsync(SystemFixture system)
    {
        var connection = new NatsConnection(new NatsOpts { Url = await system.ConnectionStringAsync("nats") });
        var bus = new MarketBus(connection);
        await bus.Js.CreateOrUpdateStreamAsync(system.AsCreatedByServices(Streams.MarketRaw()));
        return bus;
    }

    /// <summary>A symbol nobody else uses, so tests sharing the system do not see each other's klines.</summary>
    public static string NewSymbol() => $"T{Guid.NewGuid().ToString("N")[..10].ToUpperInvariant()}USDT";

    public async Task PublishTradeAsync(Trade trade)
    {
        var headers = new NatsHeaders();
        var ack = await Js.PublishAsync(
            Subjects.MarketRaw(trade.Exchange, trade.Symbol),
            JsonSerializer.SerializeToUtf8Bytes(trade, ContractsJsonContext.Wire.Trade),
            opts: new NatsJSPubOpts { MsgId = trade.MessageId },
            headers: headers);
        // A re-sent trade is acknowledged as a duplicate: exactly what the ingestor relies on, not an error here.
        if (!ack.Duplicate)
        {
            ack.EnsureSuccess();
        }
    }

    /// <summary>
    /// Several trades of one market in one message, as the ingestor publishes a batch (its REST backfill of a gap, or
    /// a busy feed): the payload is their array and the message id spans their ids (<see cref="TradeMessages"/>).
    /// </summary>
    public async Task PublishTradesAsync(IReadOnlyList<Trade> trades)
    {
        var ack = await Js.PublishAsync(
            Subjects.MarketRaw(trades[0].Exchange, trades[0].Symbol),
            TradeMessages.Encode(trades),
            opts: new NatsJSPubOpts { MsgId = TradeMessages.MessageId(trades) });
        if (!ack.Duplicate)
        {
            ack.EnsureSuccess();
        }
    }

    /// <summary>Every kline message stored in MARKET_KLINE for one market and interval so far, in stream order.</summary>
    public async Task<List<Kline>> KlinesAsync(string exchange, string interval, string symbol, CancellationToken ct) =>
        [.. (await KlineMessagesAsync(exchange, interval, symbol, ct)).Select(m => m.Kline)];

    /// <summary>Every kline message stored in MARKET_KLINE for one market and interval so far, with its headers, in stream order.</summary>
    public async Task<List<(NatsHeaders? Headers, Kline Kline)>> KlineMessagesAsync(string exchange, string interval, string symbol, CancellationToken ct)
    {
        var klines = new List<(NatsHeaders?, Kline)>();
        var subject = Subjects.MarketKline(exchange, interval, symbol);
        var stream = await Js.GetStreamAsync(Streams.MarketKline().Name!, new StreamInfoRequest { SubjectsFilter = subject }, ct);
        if (stream.Info.State.Subjects is not { } subjects || !subjects.TryGetValue(subject, out var count) || count == 0)
        {
            return klines;
        }

        // A named consumer with the singular filter_subject, which NATS 2.9 honours (filter_subjects needs 2.10).
        var name = $"test-{Guid.NewGuid():N}";
        var consumer = await Js.CreateOrUpdateConsumerAsync(Streams.MarketKline().Name!, new ConsumerConfig(name)
        {
            FilterSubject = subject,
            DeliverPolicy = ConsumerConfigDeliverPolicy.All,
            AckPolicy = ConsumerConfigAckPolicy.None,
            InactiveThreshold = TimeSpan.FromMinutes(1),
        }, ct);
        try
        {
            while (klines.Count < (long)count)
            {
                await foreach (var msg in consumer.FetchNoWaitAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 1000 }, cancellationToken: ct))
                {
                    klines.Add((msg.Headers, JsonSerializer.Deserialize(msg.Data!, ContractsJsonContext.Wire.Kline)!));
                }
            }
        }
        finally
        {
            await Js.DeleteConsumerAsync(Streams.MarketKline().Name!, name, CancellationToken.None);
        }

        return klines;
    }

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync();
}
