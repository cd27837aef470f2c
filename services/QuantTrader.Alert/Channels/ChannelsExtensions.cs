using QuantTrader.Alert.Notifications;

namespace QuantTrader.Alert.Channels;

public static class ChannelsExtensions
{
    /// <summary>The store of users' channels, the encryption of their settings, and their senders (one
    /// <see cref="INotificationChannel"/> each: the delivery worker finds them by type).</summary>
    public static IHostApplicationBuilder AddChannels(this IHostApplicationBuilder builder)
    {
        ChannelSecrets.AddTo(builder);
        builder.Services.Configure<ChannelOptions>(builder.Configuration.GetSection(ChannelOptions.Section));
        builder.Services.AddSingleton<ChannelStore>();
        builder.Services.AddSingleton<SendSpacing>();
        builder.Services.AddSingleton<INotificationChannel, TelegramChannel>();
        builder.Services.AddSingleton<INotificationChannel, DiscordChannel>();
        builder.Services.AddSingleton<INotificationChannel, SlackChannel>();
        builder.Services.AddSingleton<INotificationChannel, EmailChannel>();
        return builder;
    }
}
