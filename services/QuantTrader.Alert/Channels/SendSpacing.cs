using System.Collections.Concurrent;

namespace QuantTrader.Alert.Channels;

/// <summary>
/// Keeps sends to one key (a Telegram chat, a bot) at least an interval apart in this replica: each send reserves the
/// next free slot and waits for it, so concurrent sends queue up instead of bursting into the service's rate limit.
/// </summary>
public sealed class SendSpacing(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Slot> _slots = new(StringComparer.Ordinal);

    public async Task WaitTurnAsync(string key, TimeSpan interval, CancellationToken ct)
    {
        var slot = _slots.GetOrAdd(key, _ => new Slot());
        var now = time.GetUtcNow();
        DateTimeOffset turn;
        lock (slot)
        {
            turn = slot.Next > now ? slot.Next : now;
            slot.Next = turn + interval;
        }

        if (turn > now)
        {
            await Task.Delay(turn - now, time, ct);
        }
    }

    /// <summary>The service asked us to wait (a 429): no send to this key before then.</summary>
    public void Pause(string key, TimeSpan wait)
    {
        var slot = _slots.GetOrAdd(key, _ => new Slot());
        var until = time.GetUtcNow() + wait;
        lock (slot)
        {
            if (slot.Next < until)
            {
                slot.Next = until;
            }
        }
    }

    private sealed class Slot
    {
        public DateTimeOffset Next { get; set; }
    }
}
