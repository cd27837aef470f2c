using Microsoft.Extensions.Options;
using QuantTrader.Alert.Webhooks;

namespace QuantTrader.Alert.Channels;

/// <summary>A Slack incoming webhook: <c>POST {url}</c> with <c>text</c> in mrkdwn. A 429 carries
/// <c>Retry-After</c>.</summary>
public sealed class SlackChannel(ChannelStore channels, IOptions<ChannelOptions> options, IOptions<WebhookOptions> webhooks, TimeProvider time)
    : ChatChannel(channels, time), IDisposable
{
    private readonly HttpClient _http = new(WebhookAddressPolicy.GuardedHandler(webhooks.Value.AllowPrivateNetworks)) { Timeout = options.Value.Timeout };

    public override string Name => ChannelTypes.Slack;

    protected override Markup Markup => Markup.SlackMrkdwn;

    protected override HttpClient Http => _http;

    protected override Task<HttpRequestMessage> RequestAsync(UserChannel channel, string text, CancellationToken ct) =>
        Task.FromResult(PostJson(channel.Settings.Url!, new { text, mrkdwn = true }));

    public void Dispose() => _http.Dispose();
}
