namespace QuantTrader.Alert.Channels;

/// <summary>POST /api/v1/notification-channels: the type and its settings (webhook/discord/slack: <c>url</c>;
/// telegram: <c>botToken</c> and <c>chatId</c>; email: <c>host</c>, <c>port</c>, <c>security</c>, <c>username</c>,
/// <c>password</c>, <c>from</c>, <c>to</c>).</summary>
public sealed record CreateChannelRequest(
    string? Type, string? Name, string? Url, string? BotToken, string? ChatId,
    string? Host = null, int? Port = null, string? Security = null, string? Username = null, string? Password = null, string? From = null, string? To = null);

/// <summary>A channel as its user sees it: never its secrets whole, only <paramref name="Hint"/> (their last characters).</summary>
public sealed record ChannelView(Guid Id, string Type, string Name, string Hint, DateTimeOffset CreatedAt);

/// <summary>What a channel needs to send, stored encrypted as JSON.</summary>
public sealed record ChannelSettings(string? Url = null, string? BotToken = null, string? ChatId = null, EmailSettings? Email = null);

/// <summary>A user's channel with its decrypted settings, for one send.</summary>
public sealed record UserChannel(Guid Id, Guid UserId, string Type, string Name, ChannelSettings Settings);

public static class ChannelTypes
{
    public const string Webhook = "webhook";
    public const string Telegram = "telegram";
    public const string Discord = "discord";
    public const string Slack = "slack";
    public const string Email = "email";

    public static readonly string[] All = [Webhook, Telegram, Discord, Slack, Email];
}
