using System.Text.Json;
using NATS.Client.Core;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;
using QuantTrader.PaperEngine.Orders;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.PaperEngine.Messaging;

/// <summary>
/// Orders that do not come over REST (strategies): <c>paper.submit</c> and <c>paper.cancel</c> request/reply, served
/// by the same <see cref="OrderService"/> as REST, so validation, idempotency, risk and results are identical. The
/// reply's <c>Error</c> is the REST problem type's slug (<c>validation</c>, <c>risk-rejected</c>, ...).
/// </summary>
public sealed class OrderRequestHandlers(INatsConnection nats, OrderService orders, RiskClient risk, TimeProvider time, ILogger<OrderRequestHandlers> logger) : BackgroundService
{
    private const string QueueGroup = "paper-engine";
    private readonly SemaphoreSlim _concurrency = new(32);
    private int _subscribed;

    /// <summary>True once both subjects are subscribed (readiness: strategies' requests would otherwise find no responder).</summary>
    public bool Ready => Volatile.Read(ref _subscribed) >= 2;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await risk.WarmUpAsync(stoppingToken);
        await Task.WhenAll(
            ServeAsync(Subjects.TradingSubmit, HandleSubmitAsync, stoppingToken),
            ServeAsync(Subjects.TradingCancel, HandleCancelAsync, stoppingToken));
    }

    private async Task ServeAsync(string subject, Func<byte[], CancellationToken, Task<SubmitOrderReply>> handle, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var subscription = await nats.SubscribeCoreAsync<byte[]>(subject, queueGroup: QueueGroup, cancellationToken: ct);
                Interlocked.Increment(ref _subscribed);
                await foreach (var msg in subscription.Msgs.ReadAllAsync(ct))
                {
                    await _concurrency.WaitAsync(ct);
                    _ = Task.Run(async () =>
                    {
                        try
                        {
                            using var activity = NatsTracing.StartProcess(subject, msg.Headers);
                            SubmitOrderReply reply;
                            try
                            {
                                reply = await handle(msg.Data ?? [], ct);
                            }
                            catch (JsonException ex)
                            {
                                reply = new SubmitOrderReply(null, OrderProblem.Validation, null, null, $"The request is not valid JSON: {ex.Message}");
                            }

                            await msg.ReplyAsync(JsonSerializer.SerializeToUtf8Bytes(reply, ContractsJsonContext.Wire.SubmitOrderReply), cancellationToken: ct);
                        }
                        catch (Exception ex) when (ex is not OperationCanceledException)
                        {
                            logger.LogError(ex, "Handling a {Subject} request failed", subject);
                        }
                        finally
                        {
                            _concurrency.Release();
                        }
                    }, ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Interlocked.Decrement(ref _subscribed);
                logger.LogWarning(ex, "The {Subject} subscription failed; resubscribing", subject);
                await Task.Delay(TimeSpan.FromSeconds(1), time, ct);
            }
        }
    }

    private async Task<SubmitOrderReply> HandleSubmitAsync(byte[] data, CancellationToken ct)
    {
        var request = JsonSerializer.Deserialize(data, ContractsJsonContext.Wire.SubmitOrderRequest)
            ?? throw new JsonException("empty request");
        if (request.UserId == Guid.Empty)
        {
            return new SubmitOrderReply(null, OrderProblem.Validation, "userId", null, "userId is required.");
        }

        return ToReply(await orders.SubmitAsync(request, ct));
    }

    private async Task<SubmitOrderReply> HandleCancelAsync(byte[] data, CancellationToken ct)
    {
        var request = JsonSerializer.Deserialize(data, ContractsJsonContext.Wire.CancelOrderRequest)
            ?? throw new JsonException("empty request");
        return ToReply(await orders.CancelAsync(request.UserId, request.OrderId, ct));
    }

    private static SubmitOrderReply ToReply(OrderOutcome outcome) => outcome.Problem is { } p
        ? new SubmitOrderReply(null, p.Slug, p.Field, p.Limit, p.Detail)
        : new SubmitOrderReply(outcome.Order, null, null, null, null);
}
