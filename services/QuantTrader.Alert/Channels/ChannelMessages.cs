using System.Globalization;
using System.Text;
using System.Text.Json;
using QuantTrader.Alert.Notifications;

namespace QuantTrader.Alert.Channels;

/// <summary>The markup a chat channel renders: Telegram's (legacy) Markdown, Discord's Markdown, Slack's mrkdwn.</summary>
public enum Markup
{
    TelegramMarkdown,
    DiscordMarkdown,
    SlackMrkdwn,

    /// <summary>Plain text (an email's body): nothing to escape, no emphasis.</summary>
    Plain,
}

/// <summary>
/// The readable default text of a notification for a chat channel or an email: market, what happened (the rule's condition as the
/// firing describes it), price, the indicator value when there is one, and the time — the title in bold. Text from
/// the payload is escaped for the channel's markup, so a symbol or message can never break or inject formatting.
/// </summary>
public static class ChannelMessages
{
    public static string Text(OutboxDelivery delivery, Markup markup)
    {
        var payload = delivery.Payload;
        var text = new StringBuilder();
        if (delivery.Kind == NotificationOutbox.AlertFiredKind)
        {
            var symbol = payload.GetProperty("symbol").GetString();
            var exchange = payload.GetProperty("exchange").GetString();
            text.Append(Bold($"Alert: {symbol} on {exchange}", markup)).Append('\n');
            text.Append(Escape(payload.GetProperty("message").GetString() ?? "", markup)).Append('\n');
            text.Append("Price: ").Append(Escape(Number(payload.GetProperty("price")), markup)).Append('\n');
            if (payload.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Number)
            {
                text.Append("Indicator value: ").Append(Escape(Number(value), markup)).Append('\n');
            }
        }
        else
        {
            text.Append(Bold("QuantTrader", markup)).Append('\n');
            text.Append(Escape(payload.TryGetProperty("message", out var message) ? message.GetString() ?? "" : delivery.Kind, markup)).Append('\n');
        }

        if (payload.TryGetProperty("time", out var time) && time.ValueKind == JsonValueKind.String)
        {
            text.Append("Time: ").Append(Escape(time.GetDateTimeOffset().UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture), markup));
        }

        return text.ToString().TrimEnd('\n');
    }

    private static string Number(JsonElement number) => number.GetDecimal().ToString(CultureInfo.InvariantCulture);

    private static string Bold(string text, Markup markup) => markup switch
    {
        Markup.DiscordMarkdown => $"**{Escape(text, markup)}**",
        Markup.Plain => text,
        _ => $"*{Escape(text, markup)}*",
    };

    /// <summary>Telegram legacy Markdown: a backslash before _ * ` [; Discord: before its markdown characters;
    /// Slack: the three HTML entities its docs ask for.</summary>
    public static string Escape(string text, Markup markup)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            switch (markup)
            {
                case Markup.TelegramMarkdown when c is '_' or '*' or '`' or '[':
                case Markup.DiscordMarkdown when c is '_' or '*' or '`' or '~' or '|' or '>' or '\\':
                    escaped.Append('\\').Append(c);
                    break;
                case Markup.SlackMrkdwn when c == '&':
                    escaped.Append("&amp;");
                    break;
                case Markup.SlackMrkdwn when c == '<':
                    escaped.Append("&lt;");
                    break;
                case Markup.SlackMrkdwn when c == '>':
                    escaped.Append("&gt;");
                    break;
                default:
                    escaped.Append(c);
                    break;
            }
        }

        return escaped.ToString();
    }
}
