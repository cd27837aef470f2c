using Microsoft.Extensions.Options;
using QuantTrader.Alert.Webhooks;
using QuantTrader.ServiceDefaults.Partitioning;

namespace QuantTrader.Alert.Notifications;

public static class NotificationsExtensions
{
    /// <summary>
    /// The durable outbox, its delivery worker and the channels (docs/notifications.md). A channel is one more
    /// <see cref="INotificationChannel"/> registration. Call before the partitioned work, so the worker stops after the
    /// partitions have drained (their last firings are in the outbox either way).
    /// </summary>
    public static IHostApplicationBuilder AddNotifications(this IHostApplicationBuilder builder)
    {
        // The retry and fairness settings were the webhook's before there was an outbox: those names still count,
        // and Notifications:Delivery overrides them.
        builder.Services.Configure<DeliveryOptions>(builder.Configuration.GetSection(WebhookOptions.Section));
        builder.Services.Configure<DeliveryOptions>(builder.Configuration.GetSection(DeliveryOptions.Section));
        builder.Services.Configure<WebhookOptions>(builder.Configuration.GetSection(WebhookOptions.Section));
        builder.Services.AddSingleton<WebhookChannel>();
        builder.Services.AddSingleton<INotificationChannel>(sp => sp.GetRequiredService<WebhookChannel>());

        builder.Services.AddSingleton<OutboxStore>();
        builder.Services.AddSingleton<NotificationOutbox>();
        builder.Services.AddSingleton<DeadLetters>();
        builder.Services.AddSingleton(sp => new DeliveryWorker(
            sp.GetRequiredService<OutboxStore>(),
            sp.GetRequiredService<NotificationOutbox>(),
            sp.GetServices<INotificationChannel>(),
            sp.GetRequiredService<DeadLetters>(),
            sp.GetRequiredService<IOptions<DeliveryOptions>>(),
            // The replica's stable name: a replica restarted after a crash takes back its own claims at once.
            sp.GetRequiredService<PartitionLeases>().Instance,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<DeliveryWorker>>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DeliveryWorker>());
        return builder;
    }
}
