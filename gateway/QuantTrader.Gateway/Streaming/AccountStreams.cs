using System.Collections.Concurrent;
using System.Net.WebSockets;
using QuantTrader.Gateway.Authentication;

namespace QuantTrader.Gateway.Streaming;

/// <summary>
/// The authenticated stream connections of each user on this replica. When the accounts service announces that a
/// user's keys or plan changed (<c>accounts.changed</c>: a key revoked, a plan moved), their connections are closed with
/// 4007: a revoked key must not keep streaming, and a new plan's limits apply from the next <c>auth</c>. Every
/// replica hears the announcement and closes its own.
/// </summary>
public sealed class AccountStreams : IAccountChangeObserver
{
    public const WebSocketCloseStatus AccountChangedClose = (WebSocketCloseStatus)4007;

    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<OutboundFrames, byte>> _byUser = new();

    public IDisposable Register(Guid userId, OutboundFrames connection)
    {
        _byUser.GetOrAdd(userId, _ => new()).TryAdd(connection, 0);
        return new Registration(this, userId, connection);
    }

    public void AccountChanged(Guid userId)
    {
        if (!_byUser.TryGetValue(userId, out var connections))
        {
            return;
        }
        foreach (var connection in connections.Keys)
        {
            connection.Send(StreamFrames.Error("account-changed", "Your keys or plan changed: reconnect, authenticate again and resume with since."));
            connection.RequestClose(AccountChangedClose, "account changed", drain: true);
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
