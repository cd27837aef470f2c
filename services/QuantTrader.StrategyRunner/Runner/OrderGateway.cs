using System.Text.Json;
using NATS.Client.Core;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.StrategyRunner.Runner;

/// <param name="Status">accepted | rejected | failed (no answer: nobody listening, timeout, bad reply).</param>
public sealed record SubmitOutcome(string Status, Guid? OrderId, string Detail);

/// <summary>
/// Strategy orders take the same path as REST orders: a <see cref="SubmitOrderRequest"/> to the paper engine over
/// NATS request/reply (<see cref="Subjects.TradingSubmit"/>), which runs risk and matching and answers with the
/// order. The request always carries the strategy's owner and id: a strategy cannot name anyone else.
/// </summary>
public sealed class OrderGateway(INatsConnection nats, ILogger<OrderGateway> logger)
{
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    public async Task<SubmitOutcome> SubmitAsync(SubmitOrderRequest request, CancellationToken ct)
    {
        var reply = await RequestAsync(Subjects.TradingSubmit,
            JsonSerializer.SerializeToUtf8Bytes(request, ContractsJsonContext.Wire.SubmitOrderRequest), ct);
        if (reply.Error is not null)
        {
            return new SubmitOutcome("failed", null, reply.Error);
        }
        SubmitOrderReply? answer;
        try
        {
            answer = JsonSerializer.Deserialize(reply.Data, ContractsJsonContext.Wire.SubmitOrderReply);
        }
        catch (JsonException ex)
        {
            logger.LogWarning(ex, "The paper engine's reply to a strategy order could not be read");
            return new SubmitOutcome("failed", null, "the paper engine's reply could not be read");
        }
        return answer switch
        {
            { Order: { Status: OrderStatus.Rejected } order } => new SubmitOutcome("rejected", order.Id, order.RejectReason ?? "rejected"),
            { Order: { } order } => new SubmitOutcome("accepted", order.Id, $"order {order.Id} {Wire(order.Status)}"),
            { Error: { } error } => new SubmitOutcome("rejected", null,
                string.Join(" ", new[] { error, answer.Field is null ? null : $"(field {answer.Field})", answer.Limit is null ? null : $"(limit {answer.Limit})", answer.Detail }
                    .Where(s => !string.IsNullOrEmpty(s)))),
            _ => new SubmitOutcome("failed", null, "the paper engine answered with neither an order nor an error"),
        };
    }

    /// <summary>Asks the engine to cancel; returns a sentence for the strategy's log.</summary>
    public async Task<string> CancelAsync(CancelOrderRequest request, CancellationToken ct)
    {
        var reply = await RequestAsync(Subjects.TradingCancel,
            JsonSerializer.SerializeToUtf8Bytes(request, ContractsJsonContext.Wire.CancelOrderRequest), ct);
        return reply.Error ?? "cancel sent";
    }

    private async Task<(byte[] Data, string? Error)> RequestAsync(string subject, byte[] payload, CancellationToken ct)
    {
        var headers = new NatsHeaders();
        using var activity = NatsTracing.StartPublish(subject, headers);
        try
        {
            var reply = await nats.RequestAsync<byte[], byte[]>(subject, payload, headers,
                replyOpts: new NatsSubOpts { Timeout = RequestTimeout }, cancellationToken: ct);
            if (reply.Data is not { Length: > 0 } data)
            {
                return ([], $"empty reply on {subject}");
            }
            return (data, null);
        }
        catch (NatsNoRespondersException)
        {
            return ([], $"nobody answers on {subject} (is the paper engine running?)");
        }
        catch (NatsNoReplyException)
        {
            return ([], $"no answer on {subject} within {RequestTimeout.TotalSeconds:0} s");
        }
        catch (NatsException ex)
        {
            logger.LogWarning(ex, "Request on {Subject} failed", subject);
            return ([], $"request on {subject} failed: {ex.Message}");
        }
    }

    private static string Wire(OrderStatus status) => JsonNamingPolicy.SnakeCaseLower.ConvertName(status.ToString());
}
