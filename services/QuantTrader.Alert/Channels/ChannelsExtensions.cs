namespace QuantTrader.Alert.Channels;

public static class ChannelsExtensions
{
    /// <summary>The store of users' channels and the encryption of their settings.</summary>
    public static IHostApplicationBuilder AddChannels(this IHostApplicationBuilder builder)
    {
        ChannelSecrets.AddTo(builder);
        builder.Services.AddSingleton<ChannelStore>();
        return builder;
    }
}
