using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Net;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.IntegrationTests;

/// <summary>A test's own connection to the system's NATS: publishes real events to JetStream, as the services do.</summary>
public sealed class Bus : IAsyncDisposable
{
    private Bus(NatsConnection connection)
    {
        Connection = connection;
        JetStream = connection.CreateJetStreamContext();
    }

    public NatsConnection Connection { get; }

    public INatsJSContext JetStream { get; }

    public static async Task<Bus> ConnectAsync(SystemFixture system)
    {
        var connection = new NatsConnection(new NatsOpts { Url = await system.ConnectionStringAsync("nats") });
        await connection.ConnectAsync();
        var bus = new Bus(connection);
        // Whatever the start order of the services, the streams exist (same configs, idempotent).
        foreach (var stream in new[] { Streams.MarketRaw(), Streams.MarketHistory(), Streams.MarketKline(), Streams.Trading(), Streams.Alerts(), Streams.DeadLetters() })
        {
            await bus.JetStream.CreateOrUpdateStreamAsync(system.AsCreatedByServices(stream));
        }
        return bus;
    }

    /// <summary>Publishes one event as JSON with a <c>Nats-Msg-Id</c> and waits for the stream's ack.</summary>
    public async Task PublishAsync<T>(string subject, T payload, string messageId, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        => await PublishRawAsync(subject, JsonSerializer.SerializeToUtf8Bytes(payload, type), messageId);

    public async Task PublishRawAsync(string subject, byte[] payload, string messageId)
    {
        var ack = await JetStream.PublishAsync(subject, payload, opts: new NatsJSPubOpts { MsgId = messageId });
        ack.EnsureSuccess();
    }

    public ValueTask DisposeAsync() => Connection.DisposeAsync();
}
