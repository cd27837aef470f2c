namespace QuantTrader.Alert.Channels;

/// <summary>The chat channels' endpoints and limits (<c>Notifications:Channels</c>). The base URLs are options so the
/// tests point them at wire-level fakes.</summary>
public sealed class ChannelOptions
{
    public const string Section = "Notifications:Channels";

    /// <summary>The Bot API: <c>{TelegramBaseUrl}/bot{token}/sendMessage</c>.</summary>
    public string TelegramBaseUrl { get; set; } = "https://api.telegram.org";

    /// <summary>Telegram: about one message per second to one chat.</summary>
    public TimeSpan TelegramPerChatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Telegram: about 30 messages per second per bot.</summary>
    public TimeSpan TelegramPerBotInterval { get; set; } = TimeSpan.FromMilliseconds(34);

    /// <summary>Slack: about one message per second to one incoming webhook.</summary>
    public TimeSpan SlackPerWebhookInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>One send's time limit (must stay well below the outbox claim's 30 s, spacing waits included).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}
