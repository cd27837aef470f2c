using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;
using QuantTrader.Risk.Limits;
using QuantTrader.ServiceDefaults.Messaging;
using QuantTrader.Trading.Risk;

namespace QuantTrader.Risk.Checks;

/// <summary>
/// Answers <c>risk.check</c> (core NATS request/reply, queue group so replicas share the load) with
/// <see cref="RiskEvaluator"/> over the user's limits capped by the operator's ceiling. When the limits cannot be
/// read it answers "rejected" without naming a limit: the engine treats that like no answer (fail closed).
/// </summary>
public sealed class RiskResponder(INatsConnection nats, LimitsStore limits, IOptionsMonitor<RiskSettings> settings, ILogger<RiskResponder> logger)
    : BackgroundService
{
    /// <summary>True while subscribed to risk.check (readiness: before that, every order would be rejected as unanswered).</summary>
    public bool Ready { get; private set; }

    private static readonly Counter<long> Decisions = QuantTraderTelemetry.Meter.CreateCounter<long>("risk.decisions", description: "Risk checks by outcome");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Warm the whole decision path once (database, evaluator, JSON) so the first real order is not the
                // one that pays for start-up and runs into the engine's timeout.
                await DecideAsync(JsonSerializer.SerializeToUtf8Bytes(
                    new RiskCheckRequest(Guid.Empty, "binance", "BTCUSDT", OrderSide.Buy, 0m, 0m, 0, 0m, 0m), ContractsJsonContext.Wire.RiskCheckRequest), stoppingToken);
                await using var subscription = await nats.SubscribeCoreAsync<byte[]>(Subjects.RiskCheck, queueGroup: "risk", cancellationToken: stoppingToken);
                Ready = true;
                logger.LogInformation("Answering {Subject}", Subjects.RiskCheck);
                await foreach (var msg in subscription.Msgs.ReadAllAsync(stoppingToken))
                {
                    using var activity = NatsTracing.StartProcess(Subjects.RiskCheck, msg.Headers);
                    var reply = await DecideAsync(msg.Data, stoppingToken);
                    Decisions.Add(1, new KeyValuePair<string, object?>("limit", reply.Accepted ? "accepted" : reply.Limit ?? "unavailable"));
                    await msg.ReplyAsync(JsonSerializer.SerializeToUtf8Bytes(reply, ContractsJsonContext.Wire.RiskCheckReply), cancellationToken: stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Ready = false;
                logger.LogWarning(ex, "The risk.check subscription failed; resubscribing");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private async Task<RiskCheckReply> DecideAsync(byte[]? data, CancellationToken ct)
    {
        RiskCheckRequest? request;
        try
        {
            request = data is { Length: > 0 } ? JsonSerializer.Deserialize(data, ContractsJsonContext.Wire.RiskCheckRequest) : null;
        }
        catch (JsonException ex)
        {
            logger.LogWarning(ex, "Unreadable risk check request");
            return new RiskCheckReply(false, null, "The risk check request could not be read.");
        }

        if (request is null)
        {
            return new RiskCheckReply(false, null, "The risk check request was empty.");
        }

        try
        {
            var userLimits = await limits.GetEffectiveAsync(request.UserId, ct);
            var reply = RiskEvaluator.Check(request, userLimits, settings.CurrentValue.KillSwitch);
            if (!reply.Accepted)
            {
                logger.LogInformation("Rejected an order of {UserId} on {Exchange}:{Symbol}: {Limit} — {Reason}",
                    request.UserId, request.Exchange, request.Symbol, reply.Limit, reply.Reason);
            }

            return reply;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Could not load the risk limits of {UserId}; rejecting", request.UserId);
            return new RiskCheckReply(false, null, "The risk manager could not load your limits; the order is rejected. Try again shortly.");
        }
    }
}
