using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace QuantTrader.Alert.Channels;

/// <summary>
/// A Telegram bot's message to a chat: <c>POST {base}/bot{token}/sendMessage</c> with <c>chat_id</c>, <c>text</c> and
/// <c>parse_mode: Markdown</c>. Sends are spaced to Telegram's limits — about one message a second to a chat and 30 a
/// second per bot — and a 429's <c>parameters.retry_after</c> pauses the chat for that long.
/// </summary>
public sealed class TelegramChannel : ChatChannel, IDisposable
{
    private readonly ChannelOptions _options;
    private readonly SendSpacing _spacing;
    private readonly HttpClient _http;

    public TelegramChannel(ChannelStore channels, SendSpacing spacing, IOptions<ChannelOptions> options, TimeProvider time)
        : base(channels, time)
    {
        _options = options.Value;
        _spacing = spacing;
        // The Bot API's address is the operator's (an option), not a user's: no SSRF guard, but no redirects either.
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = _options.Timeout };
    }

    public override string Name => ChannelTypes.Telegram;

    protected override Markup Markup => Markup.TelegramMarkdown;

    protected override HttpClient Http => _http;

    protected override async Task<HttpRequestMessage> RequestAsync(UserChannel channel, string text, CancellationToken ct)
    {
        var token = channel.Settings.BotToken!;
        await _spacing.WaitTurnAsync(BotKey(token), _options.TelegramPerBotInterval, ct);
        await _spacing.WaitTurnAsync(ChatKey(token, channel.Settings.ChatId!), _options.TelegramPerChatInterval, ct);
        return PostJson($"{_options.TelegramBaseUrl.TrimEnd('/')}/bot{token}/sendMessage",
            new { chat_id = channel.Settings.ChatId, text, parse_mode = "Markdown" });
    }

    protected override void OnRateLimited(UserChannel channel, TimeSpan wait) =>
        _spacing.Pause(ChatKey(channel.Settings.BotToken!, channel.Settings.ChatId!), wait);

    // Keyed by a hash: the spacing table holds no token.
    private static string BotKey(string token) => "telegram-bot:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)))[..24];

    private static string ChatKey(string token, string chat) => $"{BotKey(token)}:{chat}";

    public void Dispose() => _http.Dispose();
}
