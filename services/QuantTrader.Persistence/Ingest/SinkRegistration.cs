using QuantTrader.Persistence.Partitions;
using QuantTrader.Persistence.Sinks;

namespace QuantTrader.Persistence.Ingest;

public static class SinkRegistration
{
    /// <summary>The batch saver: one durable consumer and writer per table, and the partition maintenance.</summary>
    public static IHostApplicationBuilder AddBatchSaver(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<PersistenceOptions>(builder.Configuration.GetSection(PersistenceOptions.Section));
        builder.Services.Configure<RetentionOptions>(builder.Configuration.GetSection(RetentionOptions.Section));
        builder.Services.AddSingleton<DeadLetters>();
        builder.AddSink(new TradeSink());
        builder.AddSink(TradeSink.History());
        builder.AddSink(new KlineSink());
        builder.AddSink(new OrderSink());
        builder.AddSink(new FillSink());
        builder.AddSink(new AlertEventSink());
        // The current candles, from core NATS (not a stream): see OpenKlineSaver.
        builder.Services.AddHostedService<OpenKlineSaver>();
        builder.Services.AddHostedService<PartitionMaintenance>();
        return builder;
    }

    private static void AddSink<TRow>(this IHostApplicationBuilder builder, IEventSink<TRow> sink) =>
        builder.Services.AddSingleton<IHostedService>(sp => ActivatorUtilities.CreateInstance<JetStreamSink<TRow>>(sp, sink));
}
