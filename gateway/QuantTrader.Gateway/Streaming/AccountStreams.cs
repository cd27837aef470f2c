using System.Collections.Concurrent;
using System.Net.WebSockets;
using NATS.Client.Core;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.Gateway.Streaming;

/// <summary>
/// The authenticated stream connections of each user on this replica. When the accounts service announces that a
/// user's keys or plan changed (<c>accounts.changed</c>: a key revoked, a plan moved), their connections are closed with
/// 4007: a revoked key must not keep streaming, and a new plan's limits apply from the next <c>auth</c>. Every
/// replica hears the announcement and closes its own.
/// </summary>
public sealed class AccountStreams
{
    public const WebSocketCloseStatus AccountChanged = (WebSocketCloseStatus)4007;

    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<OutboundFrames, byte>> _byUser = new();

    public IDisposable Register(Guid userId, OutboundFrames connection)
    {
        _byUser.GetOrAdd(userId, _ => new()).TryAdd(connection, 0);
        return new Registration(this, userId, connection);
    }

    public void Changed(Guid userId)
    {
        if (!_byUser.TryGetValue(userId, out var connections))
        {
            return;
        }
        foreach (var connection in connections.Keys)
        {
            connection.Send(StreamFrames.Error("account-changed", "Your keys or plan changed: reconnect, authenticate again and resume with since."));
            connection.RequestClose(AccountChanged, "account changed", drain: true);
        }
    }

    private sealed class Registration(AccountStreams streams, Guid userId, OutboundFrames connection) : IDisposable
    {
        public void Dispose()
        {
            if (streams._byUser.TryGetValue(userId, out var connections))
            {
                connections.TryRemove(connection, out _);
                if (connections.IsEmpty)
                {
                    streams._byUser.TryRemove(new KeyValuePair<Guid, ConcurrentDictionary<OutboundFrames, byte>>(userId, connections));
                }
            }
        }
    }
}

/// <summary>Hears <c>accounts.changed</c> for <see cref="AccountStreams"/>.</summary>
public sealed class AccountStreamsListener(INatsConnection nats, AccountStreams streams, ILogger<AccountStreamsListener> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var message in nats.SubscribeAsync<string>(Subjects.AccountsChanged, cancellationToken: stoppingToken))
                {
                    if (Guid.TryParse(message.Data, out var userId))
                    {
                        streams.Changed(userId);
                    }
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Account change subscription of the stream ended; resubscribing");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }
}
