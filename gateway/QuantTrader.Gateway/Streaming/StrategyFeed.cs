using System.Text.Json;
using NATS.Client.Core;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Identity;

namespace QuantTrader.Gateway.Streaming;

/// <summary>
/// A user's <c>strategies</c>: the strategy runner's status changes and log lines, published on core NATS
/// (<c>strategies.events.{userId:N}</c>) after they are stored. Live only: what a client missed is in the database,
/// read over REST (<c>GET /api/v1/strategies/{id}</c>, <c>…/logs?after={logId}</c>).
/// </summary>
public static class StrategyFeed
{
    public static async Task<IAsyncDisposable> StartAsync(StreamChannel channel, Caller caller, JsonElement? id,
        OutboundFrames connection, INatsConnection nats, CancellationToken ct)
    {
        var subscription = await nats.SubscribeCoreAsync<byte[]>(Subjects.StrategyEvents(caller.UserId), cancellationToken: ct);
        await nats.PingAsync(ct);
        connection.Send(StreamFrames.Subscribed(channel.Name, null, id));
        var pump = Task.Run(async () =>
        {
            await foreach (var message in subscription.Msgs.ReadAllAsync())
            {
                if (message.Data is { Length: > 0 } data && data[0] == (byte)'{')
                {
                    connection.Send(StreamFrames.Data("strategy", channel.Name, null, data));
                }
            }
        });
        return new Running(subscription, pump);
    }

    private sealed class Running(INatsSub<byte[]> subscription, Task pump) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await subscription.DisposeAsync();
            await pump;
        }
    }
}
