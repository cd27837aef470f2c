using System.Text.Json;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;
using QuantTrader.PaperEngine.Engine;

namespace QuantTrader.PaperEngine.Orders;

/// <summary>
/// Asks the risk manager (<c>risk.check</c>, core NATS request/reply). Fails closed: no responder, no answer within
/// the timeout, or an unreadable answer all come back as a rejection with a reason, never as an acceptance.
/// </summary>
public sealed class RiskClient(INatsConnection nats, IOptions<PaperEngineOptions> options, ILogger<RiskClient> logger)
{
    public async Task<RiskCheckReply> CheckAsync(RiskCheckRequest request, CancellationToken ct)
    {
        var timeout = options.Value.RiskTimeout;
        try
        {
            var reply = await nats.RequestAsync<byte[], byte[]>(
                options.Value.RiskSubject,
                JsonSerializer.SerializeToUtf8Bytes(request, ContractsJsonContext.Wire.RiskCheckRequest),
                replyOpts: new NatsSubOpts { Timeout = timeout },
                cancellationToken: ct);
            if (reply.Data is { Length: > 0 } data && JsonSerializer.Deserialize(data, ContractsJsonContext.Wire.RiskCheckReply) is { } answer)
            {
                return answer;
            }

            logger.LogWarning("The risk manager sent an empty answer for an order of {UserId}; rejecting", request.UserId);
            return Unavailable("The risk manager sent an unreadable answer; the order is rejected.");
        }
        catch (NatsNoRespondersException)
        {
            logger.LogWarning("No risk manager is listening on {Subject}; rejecting the order of {UserId}", options.Value.RiskSubject, request.UserId);
            return Unavailable("The risk manager is not running, so no order can be checked; the order is rejected. Try again shortly.");
        }
        catch (Exception ex) when (ex is NatsException or JsonException or TimeoutException)
        {
            logger.LogWarning(ex, "The risk manager did not answer within {Timeout}; rejecting the order of {UserId}", timeout, request.UserId);
            return Unavailable($"The risk manager did not answer within {timeout.TotalSeconds:0.###} s; the order is rejected (fail closed). Try again shortly.");
        }
    }

    /// <summary>
    /// Sets up the request/reply inbox and JIT-compiles the path once at start-up, so the first real order does not pay
    /// for it inside its timeout. The answer (or its absence, when risk is not up yet) does not matter.
    /// </summary>
    public async Task WarmUpAsync(CancellationToken ct)
    {
        await CheckAsync(new RiskCheckRequest(Guid.Empty, "binance", "BTCUSDT", OrderSide.Buy, 0m, 0m, 0, 0m, 0m), ct);
    }

    /// <summary>A rejection that names no limit: risk could not decide.</summary>
    private static RiskCheckReply Unavailable(string reason) => new(false, null, reason);
}
