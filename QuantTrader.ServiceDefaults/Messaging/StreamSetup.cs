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
    public static async Task EnsureAsync(INatsJSContext js, StreamConfig config, ILogger logger, CancellationToken ct)
    {
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
