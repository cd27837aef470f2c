using System.Buffers;
using System.Text.Json;
using NATS.Client.Core;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.StrategyRunner.Storage;

/// <summary>
/// Tells the streaming API's <c>strategies</c> channel (docs/streaming.md) what <see cref="StrategyStore"/> just stored:
/// a status change or a log line, on core NATS <c>strategies.events.{userId:N}</c>. Fire and forget: the database is the
/// record (REST reads it), so a lost event costs a live view a line, never data, and a publish never fails a write.
/// </summary>
public sealed class StrategyEvents(INatsConnection nats, ILogger<StrategyEvents> logger)
{
    public async Task StatusAsync(Guid userId, Guid strategyId, string status, string? faultReason = null, string? faultDetail = null)
    {
        await PublishAsync(userId, w =>
        {
            w.WriteString("strategyId", strategyId);
            w.WriteString("kind", "status");
            w.WriteString("status", status);
            if (faultReason is not null)
            {
                w.WriteString("faultReason", faultReason);
                w.WriteString("faultDetail", faultDetail);
            }
            w.WriteString("time", DateTimeOffset.UtcNow.UtcDateTime);
        });
    }

    public async Task LogAsync(Guid userId, Guid strategyId, long logId, DateTimeOffset time, string source, string message)
    {
        await PublishAsync(userId, w =>
        {
            w.WriteString("strategyId", strategyId);
            w.WriteString("kind", "log");
            w.WriteNumber("logId", logId);
            w.WriteString("source", source);
            w.WriteString("message", message);
            w.WriteString("time", time.UtcDateTime);
        });
    }

    private async Task PublishAsync(Guid userId, Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        try
        {
            await nats.PublishAsync(Subjects.StrategyEvents(userId), buffer.WrittenMemory.ToArray());
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogDebug(ex, "Strategy event for {StrategyId} not sent", userId);
        }
    }
}
