namespace QuantTrader.Persistence.Partitions;

/// <summary>Configuration section <c>Persistence:Retention</c>: how long market data is kept.</summary>
public sealed class RetentionOptions
{
    public const string Section = "Persistence:Retention";

    /// <summary>Trades older than this are dropped (whole daily partitions, or TimescaleDB chunks).</summary>
    public TimeSpan Trades { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Klines older than this are dropped (whole weekly partitions, or chunks).</summary>
    public TimeSpan Klines { get; set; } = TimeSpan.FromDays(365);

    /// <summary>How often pg_partman's maintenance runs (there is no pg_cron here; this service is the scheduler).</summary>
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromMinutes(10);
}
