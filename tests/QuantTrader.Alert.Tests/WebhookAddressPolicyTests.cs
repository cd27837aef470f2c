using System.Net;
using QuantTrader.Alert.Webhooks;

namespace QuantTrader.Alert.Tests;

public sealed class WebhookAddressPolicyTests
{
    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("0.1.2.3")]
    [InlineData("100.64.0.1")]
    [InlineData("100.127.255.254")]
    [InlineData("169.254.169.254")]
    [InlineData("192.0.0.8")]
    [InlineData("192.0.2.1")]
    [InlineData("192.88.99.1")]
    [InlineData("198.18.0.1")]
    [InlineData("198.19.255.255")]
    [InlineData("198.51.100.7")]
    [InlineData("203.0.113.5")]
    [InlineData("224.0.0.1")]
    [InlineData("240.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("::")]
    [InlineData("::1.2.3.4")]
    [InlineData("64:ff9b:1::1")]
    [InlineData("64:ff9b::203.0.113.5")]
    [InlineData("100::1")]
    [InlineData("2001::1")]
    [InlineData("2001:db8::1")]
    [InlineData("2001:db8:ffff::1")]
    [InlineData("2002:c000:0201::1")]
    [InlineData("3fff::1")]
    [InlineData("fe80::1")]
    [InlineData("fec0::1")]
    [InlineData("ff02::1")]
    [InlineData("::ffff:203.0.113.5")]
    [InlineData("::ffff:169.254.169.254")]
    public void A_special_use_address_is_refused_even_when_private_networks_are_allowed(string address)
    {
        Assert.Equal(AddressUse.SpecialUse, WebhookAddressPolicy.Classify(IPAddress.Parse(address)).Use);
        Assert.False(WebhookAddressPolicy.IsAllowed(IPAddress.Parse(address), allowPrivate: true));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.255.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("::1")]
    [InlineData("fd00::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("64:ff9b::10.0.0.1")]
    public void A_private_address_is_refused_unless_private_networks_are_allowed(string address)
    {
        Assert.Equal(AddressUse.Private, WebhookAddressPolicy.Classify(IPAddress.Parse(address)).Use);
        Assert.False(WebhookAddressPolicy.IsAllowed(IPAddress.Parse(address), allowPrivate: false));
        Assert.True(WebhookAddressPolicy.IsAllowed(IPAddress.Parse(address), allowPrivate: true));
    }

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("1.1.1.1")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("192.0.3.1")]
    [InlineData("198.20.0.1")]
    [InlineData("203.0.114.1")]
    [InlineData("223.255.255.255")]
    [InlineData("64:ff9b::8.8.8.8")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("2a00:1450:4001::1")]
    public void A_public_address_is_allowed(string address)
    {
        Assert.Equal(AddressUse.Public, WebhookAddressPolicy.Classify(IPAddress.Parse(address)).Use);
        Assert.True(WebhookAddressPolicy.IsAllowed(IPAddress.Parse(address), allowPrivate: false));
    }

    [Theory]
    [InlineData("http://203.0.113.10/hook", "documentation (TEST-NET-3)")]
    [InlineData("http://169.254.169.254/latest/meta-data", "link-local")]
    [InlineData("http://[2001:db8::1]:8080/hook", "documentation")]
    [InlineData("http://198.18.0.1/hook", "benchmarking")]
    public async Task A_webhook_url_into_a_special_use_range_is_refused_naming_the_range(string url, string range)
    {
        var refused = await WebhookAddressPolicy.CheckAsync(url, allowPrivate: true, CancellationToken.None);
        Assert.NotNull(refused);
        Assert.Contains(range, refused, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:9000/hook")]
    [InlineData("http://localhost/hook")]
    [InlineData("http://10.0.0.5/hook")]
    public async Task A_webhook_url_to_a_private_host_is_refused_unless_allowed(string url)
    {
        Assert.NotNull(await WebhookAddressPolicy.CheckAsync(url, allowPrivate: false, CancellationToken.None));
        Assert.Null(await WebhookAddressPolicy.CheckAsync(url, allowPrivate: true, CancellationToken.None));
    }

    [Theory]
    [InlineData("ftp://example.com/hook")]
    [InlineData("http://user:pw@example.com/hook")]
    [InlineData("not a url")]
    public async Task A_webhook_url_that_is_not_plain_http_is_refused(string url)
        => Assert.NotNull(await WebhookAddressPolicy.CheckAsync(url, allowPrivate: true, CancellationToken.None));

    [Fact]
    public async Task A_webhook_url_longer_than_the_bound_is_refused_naming_the_bound()
    {
        var url = "http://127.0.0.1/" + new string('a', WebhookAddressPolicy.MaxUrlLength);
        Assert.Contains($"at most {WebhookAddressPolicy.MaxUrlLength}", await WebhookAddressPolicy.CheckAsync(url, allowPrivate: true, CancellationToken.None));
    }
}
