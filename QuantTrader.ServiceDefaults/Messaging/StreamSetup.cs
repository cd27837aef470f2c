using Microsoft.Extensions.Logging;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace QuantTrader.ServiceDefaults.Messaging;

/// <summary>
/// Create-or-update of a JetStream stream, retried: several services create the shared streams at the same time at
/// start-up, and the loser of a create race gets "stream name already in use" although the stream is then fine.
/// </summary>
public static class StreamSetup
{
    /// <summary>
    /// How many NATS nodes keep a copy of each stream (and key-value bucket) this service creates: 1 on one node, 3 on a
    /// cluster (configuration <c>Nats:StreamReplicas</c>, set by the AppHost). Set once at start-up by
    /// <see cref="NatsClientExtensions.AddNatsClient"/>; everything that creates a stream or a bucket uses it, since a
    /// create or update with another count would change the stream the other services share.
    /// </summary>
    public static int Replicas { get; internal set; } = 1;

    /// <summary>Creates or updates the stream as <paramref name="config"/> says, with <see cref="Replicas"/> copies.</summary>
    public static async Task EnsureAsync(INatsJSContext js, StreamConfig config, ILogger logger, CancellationToken ct)
    {
        config = config with { NumReplicas = Replicas };
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await js.CreateOrUpdateStreamAsync(config, ct);
                return;
            }
            catch (NatsJSApiException ex) when (attempt < 10)
            {
                logger.LogInformation("Creating or updating stream {Stream} failed ({Error}); retrying", config.Name, ex.Error.Description);
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), ct);
            }
        }
    }
}
