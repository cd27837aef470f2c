using NATS.Client.JetStream.Models;
using Npgsql;
using NpgsqlTypes;
using QuantTrader.Contracts.Alerts;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Persistence.Ingest;

namespace QuantTrader.Persistence.Sinks;

/// <summary>Fired alerts from <c>alerts.fired.&gt;</c>, unique by event id.</summary>
public sealed class AlertEventSink : CopySink<AlertFired>
{
    public override string Table => "alert_events";
    public override string Durable => "persistence-alert-events";
    public override string? FilterSubject => "alerts.fired.>";
    public override StreamConfig Stream() => Streams.Alerts();

    protected override string Columns => "event_id, alert_id, user_id, exchange, symbol, time, price, value, message";
    protected override string OnConflict => "ON CONFLICT (event_id) DO NOTHING";

    public override Decoded<AlertFired> Decode(string subject, byte[]? data) =>
        Parse(data, ContractsJsonContext.Wire.AlertFired, Validate, a => a);

    private static string? Validate(AlertFired a)
    {
        if (a.EventId == Guid.Empty || a.AlertId == Guid.Empty || a.UserId == Guid.Empty)
        {
            return "alert event without event id, alert id or user id";
        }
        if (string.IsNullOrWhiteSpace(a.Exchange) || string.IsNullOrWhiteSpace(a.Symbol) || a.Message is null)
        {
            return $"alert event {a.EventId} without exchange, symbol or message";
        }
        return a.Time == default ? $"alert event {a.EventId} has no time" : null;
    }

    protected override void WriteRow(NpgsqlBinaryImporter w, AlertFired a)
    {
        w.Write(a.EventId, NpgsqlDbType.Uuid);
        w.Write(a.AlertId, NpgsqlDbType.Uuid);
        w.Write(a.UserId, NpgsqlDbType.Uuid);
        w.Write(a.Exchange, NpgsqlDbType.Text);
        w.Write(a.Symbol, NpgsqlDbType.Text);
        w.Write(a.Time.ToUniversalTime(), NpgsqlDbType.TimestampTz);
        w.Write(a.Price, NpgsqlDbType.Numeric);
        OrderSink.WriteNullable(w, a.Value, NpgsqlDbType.Numeric);
        w.Write(a.Message, NpgsqlDbType.Text);
    }
}
