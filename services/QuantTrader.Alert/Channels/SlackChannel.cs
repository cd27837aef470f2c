using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using QuantTrader.Alert.Webhooks;

namespace QuantTrader.Alert.Channels;

/// <summary>A Slack incoming webhook: <c>POST {url}</c> with <c>text</c> in mrkdwn. Slack allows about one message a
/// second per webhook, so sends to one webhook are spaced that far apart; a 429's <c>Retry-After</c> pauses it.</summary>
public sealed class SlackChannel(
    ChannelStore channels, SendSpacing spacing, IOptions<ChannelOptions> options, IOptions<WebhookOptions> webhooks, TimeProvider time)
    : ChatChannel(channels, time), IDisposable
{
    private readonly HttpClient _http = new(WebhookAddressPolicy.GuardedHandler(webhooks.Value.AllowPrivateNetworks)) { Timeout = options.Value.Timeout };

    public override string Name => ChannelTypes.Slack;

    protected override Markup Markup => Markup.SlackMrkdwn;

    protected override HttpClient Http => _http;

    protected override async Task<HttpRequestMessage> RequestAsync(UserChannel channel, string text, CancellationToken ct)
    {
        await spacing.WaitTurnAsync(WebhookKey(channel), options.Value.SlackPerWebhookInterval, ct);
        return PostJson(channel.Settings.Url!, new { text, mrkdwn = true });
    }

    protected override void OnRateLimited(UserChannel channel, TimeSpan wait) => spacing.Pause(WebhookKey(channel), wait);

    // Keyed by a hash: the spacing table holds no webhook URL.
    private static string WebhookKey(UserChannel channel) =>
        "slack:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(channel.Settings.Url!)))[..24];

    public void Dispose() => _http.Dispose();
}
