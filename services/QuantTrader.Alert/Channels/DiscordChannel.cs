using Microsoft.Extensions.Options;
using QuantTrader.Alert.Webhooks;

namespace QuantTrader.Alert.Channels;

/// <summary>A Discord webhook: <c>POST {url}</c> with <c>content</c> (Markdown, at most 2000 characters) and no
/// mentions parsed. A 429 carries <c>retry_after</c> (seconds) in its JSON and a <c>Retry-After</c> header.</summary>
public sealed class DiscordChannel(ChannelStore channels, IOptions<ChannelOptions> options, IOptions<WebhookOptions> webhooks, TimeProvider time)
    : ChatChannel(channels, time), IDisposable
{
    public const int MaxContent = 2000;

    private readonly HttpClient _http = new(WebhookAddressPolicy.GuardedHandler(webhooks.Value.AllowPrivateNetworks)) { Timeout = options.Value.Timeout };

    public override string Name => ChannelTypes.Discord;

    protected override Markup Markup => Markup.DiscordMarkdown;

    protected override HttpClient Http => _http;

    protected override Task<HttpRequestMessage> RequestAsync(UserChannel channel, string text, CancellationToken ct) =>
        Task.FromResult(PostJson(channel.Settings.Url!, new { content = text.Length > MaxContent ? text[..MaxContent] : text, allowed_mentions = new { parse = Array.Empty<string>() } }));

    public void Dispose() => _http.Dispose();
}
