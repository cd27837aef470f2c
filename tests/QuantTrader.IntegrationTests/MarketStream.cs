using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.IntegrationTests;

/// <summary>Reads what MARKET_RAW (or, for <c>market.history.…</c>, MARKET_HISTORY) holds on one subject, oldest first.</summary>
public static class MarketStream
{
    /// <summary>The API's JSON conventions on reflection-based options (the source-generated context knows no arrays).</summary>
    public static readonly JsonSerializerOptions Json = CreateJson();

    public sealed record Message<T>(T Value, NatsHeaders? Headers)
    {
        public string? Header(string name) => Headers is not null && Headers.TryGetValue(name, out var v) ? v.ToString() : null;
    }

    public static async Task<List<Message<T>>> ReadAsync<T>(INatsJSContext js, string subject, Func<byte[], T> decode)
    {
        var messages = new List<Message<T>>();
        var streamName = subject.StartsWith("market.history.", StringComparison.Ordinal) ? Streams.MarketHistory().Name! : Streams.MarketRaw().Name!;
        var stream = await js.GetStreamAsync(streamName, new StreamInfoRequest { SubjectsFilter = subject });
        if (stream.Info.State.Subjects is not { } subjects || !subjects.TryGetValue(subject, out var count) || count == 0)
        {
            return messages;
        }

        // A named consumer with the singular filter_subject, which nats-server 2.9 honours (filter_subjects, what an
        // ordered consumer sends, needs 2.10: 2.9 ignores it and delivers the whole stream).
        var name = $"test-{Guid.NewGuid():N}";
        var consumer = await js.CreateOrUpdateConsumerAsync(streamName, new ConsumerConfig(name)
        {
            FilterSubject = subject,
            DeliverPolicy = ConsumerConfigDeliverPolicy.All,
            AckPolicy = ConsumerConfigAckPolicy.None,
            InactiveThreshold = TimeSpan.FromMinutes(1),
        });
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (messages.Count < (long)count)
            {
                await foreach (var msg in consumer.FetchNoWaitAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 1000 }, cancellationToken: timeout.Token))
                {
                    messages.Add(new Message<T>(decode(msg.Data!), msg.Headers));
                }
            }
        }
        finally
        {
            await js.DeleteConsumerAsync(streamName, name);
        }

        return messages;
    }

    /// <summary>
    /// The trades on a subject, oldest first, each with the headers of the message that carried it (one trade, or
    /// several of one market: <see cref="TradeMessages"/>). Also checks each message's <c>Nats-Msg-Id</c>: the trade's
    /// id for one trade, first-last for several, with <paramref name="idPrefix"/> before it.
    /// </summary>
    public static async Task<List<Message<Trade>>> ReadTradesAsync(INatsJSContext js, string subject, string idPrefix = "")
    {
        var messages = await ReadAsync(js, subject, data => TradeMessages.Decode(data));
        foreach (var message in messages)
        {
            Assert.Equal(idPrefix + TradeMessages.MessageId(message.Value), message.Header("Nats-Msg-Id"));
        }
        return [.. messages.SelectMany(m => m.Value.Select(t => new Message<Trade>(t, m.Headers)))];
    }

    private static JsonSerializerOptions CreateJson()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        ContractsJsonContext.Configure(options);
        return options;
    }
}
