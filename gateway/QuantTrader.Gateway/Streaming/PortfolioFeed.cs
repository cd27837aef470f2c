using System.Net.Http.Headers;
using System.Text.Json;
using NATS.Client.Core;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Identity;

namespace QuantTrader.Gateway.Streaming;

/// <summary>
/// A user's <c>portfolio</c>: the paper engine's <c>GET /api/v1/portfolio</c> asked on the user's behalf (the gateway's
/// signed identity, as for a proxied request) when the subscription starts, after the user's fills (at most once per
/// <see cref="StreamOptions.PortfolioMinInterval"/>) and every <see cref="StreamOptions.PortfolioInterval"/> for the
/// unrealized PnL of moving prices. Each message is the whole portfolio, so nothing needs resuming.
/// </summary>
public static class PortfolioFeed
{
    public const string HttpClientName = "paper-engine";

    public static async Task<IAsyncDisposable> StartAsync(StreamChannel channel, Caller caller, JsonElement? id,
        OutboundFrames connection, INatsConnection nats, IHttpClientFactory http, IdentityToken tokens, StreamOptions options,
        TimeProvider time, ILogger logger, CancellationToken ct)
    {
        // Core NATS sees the fill the moment the paper engine stores it in TRADING; only the timing matters here.
        var fills = await nats.SubscribeCoreAsync<byte[]>(Subjects.TradingFill(caller.UserId), cancellationToken: ct);
        await nats.PingAsync(ct);
        connection.Send(StreamFrames.Subscribed(channel.Name, null, id));
        var stop = CancellationTokenSource.CreateLinkedTokenSource(connection.Closing);
        var pump = Task.Run(() => RunAsync(channel.Name, caller, fills, connection, http, tokens, options, time, logger, stop.Token));
        return new Running(stop, fills, pump);
    }

    private static async Task RunAsync(string channel, Caller caller, INatsSub<byte[]> fills, OutboundFrames connection,
        IHttpClientFactory http, IdentityToken tokens, StreamOptions options, TimeProvider time, ILogger logger, CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var started = time.GetUtcNow();
                await SendAsync(channel, caller, connection, http, tokens, logger, ct);
                // Wait for a fill or the period, whichever comes first; then never sooner than the minimum interval.
                using var period = CancellationTokenSource.CreateLinkedTokenSource(ct);
                period.CancelAfter(options.PortfolioInterval);
                try
                {
                    await fills.Msgs.WaitToReadAsync(period.Token);
                    while (fills.Msgs.TryRead(out _))
                    {
                    }
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                }
                var next = started + options.PortfolioMinInterval - time.GetUtcNow();
                if (next > TimeSpan.Zero)
                {
                    await Task.Delay(next, time, ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private static async Task SendAsync(string channel, Caller caller, OutboundFrames connection, IHttpClientFactory http,
        IdentityToken tokens, ILogger logger, CancellationToken ct)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "http://paper-engine/api/v1/portfolio");
            request.Headers.Add(IdentityToken.HeaderName, tokens.Issue(caller));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await http.CreateClient(HttpClientName).SendAsync(request, ct);
            if (!response.IsSuccessStatusCode)
            {
                logger.LogInformation("Portfolio for a stream connection answered {Status}; the next period tries again", (int)response.StatusCode);
                return;
            }
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            if (body.Length > 0 && body[0] == (byte)'{')
            {
                connection.Send(StreamFrames.Data("portfolio", channel, null, body));
            }
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !ct.IsCancellationRequested))
        {
            logger.LogInformation(ex, "Portfolio for a stream connection unavailable; the next period tries again");
        }
    }

    private sealed class Running(CancellationTokenSource stop, INatsSub<byte[]> fills, Task pump) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await pump;
            await fills.DisposeAsync();
            stop.Dispose();
        }
    }
}
