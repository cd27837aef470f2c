using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace QuantTrader.ServiceDefaults.Messaging;

public static class StoredPublish
{
    /// <summary>Attempts before the failure reaches the caller: about 30 s of a JetStream that does not answer.</summary>
    private const int Attempts = 5;

    /// <summary>
    /// Publishes to JetStream and waits until the message is stored, re-sending the same message when the server does
    /// not answer in time. Under load (the load harness at 5,000 trades/s) JetStream's ack sometimes takes longer than
    /// NATS.Net waits; that is not a failure of the message, and a caller that gives up on it — the kline service used
    /// to restart its whole aggregation from the last checkpoint — turns a slow broker into a replay storm. With a
    /// <paramref name="messageId"/> the re-send is dropped by the duplicate window if the first attempt landed
    /// (<see cref="PubAckExtensions.EnsureStored"/>); without one, only publish what may arrive twice (replace-style
    /// updates such as an open kline).
    /// </summary>
    public static async Task PublishStoredAsync(this INatsJSContext js, string subject, byte[] payload, string? messageId,
        NatsHeaders headers, ILogger logger, CancellationToken ct)
    {
        var opts = messageId is null ? null : new NatsJSPubOpts { MsgId = messageId };
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var ack = await js.PublishAsync(subject, payload, opts: opts, headers: headers, cancellationToken: ct);
                ack.EnsureStored();
                return;
            }
            catch (Exception ex) when (attempt < Attempts && ex is NatsJSPublishNoResponseException or NatsNoReplyException or TimeoutException)
            {
                var delay = TimeSpan.FromMilliseconds(250 * (1 << attempt));
                logger.LogWarning("JetStream did not acknowledge a publish to {Subject} in time (attempt {Attempt} of {Attempts}); sending it again in {Delay} ms",
                    subject, attempt, Attempts, delay.TotalMilliseconds);
                await Task.Delay(delay, ct);
            }
        }
    }
}
