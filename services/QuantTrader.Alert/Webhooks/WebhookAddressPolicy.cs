using System.Net;
using System.Net.Sockets;

namespace QuantTrader.Alert.Webhooks;

/// <summary>
/// SSRF guard: webhook URLs may not reach loopback, private, carrier-grade NAT, link-local (cloud metadata at
/// 169.254.169.254), unspecified, multicast or broadcast addresses, unless the operator sets
/// <c>Alerts:Webhooks:AllowPrivateNetworks</c>. Checked when a rule is created and again on every connection
/// (the resolved address is what is checked, so DNS rebinding cannot slip past).
/// </summary>
public static class WebhookAddressPolicy
{
    public static bool IsForbidden(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] == 0                                   // 0.0.0.0/8 "this network"
                || b[0] == 10                                  // 10/8
                || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)   // 172.16/12
                || (b[0] == 192 && b[1] == 168)                // 192.168/16
                || (b[0] == 169 && b[1] == 254)                // link-local, cloud metadata
                || (b[0] == 100 && b[1] >= 64 && b[1] <= 127)  // 100.64/10 carrier-grade NAT
                || (b[0] == 192 && b[1] == 0 && b[2] == 0)     // 192.0.0/24 protocol assignments
                || b[0] >= 224;                                // multicast, reserved, broadcast
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            return address.Equals(IPAddress.IPv6None)
                || address.IsIPv6LinkLocal
                || address.IsIPv6SiteLocal
                || address.IsIPv6Multicast
                || (b[0] & 0xFE) == 0xFC;                       // fc00::/7 unique local
        }

        return true;
    }

    /// <summary>Null when the URL is acceptable, else why not (for a 400 naming <c>webhookUrl</c>).</summary>
    public static async Task<string?> CheckAsync(string url, bool allowPrivate, CancellationToken ct)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return "webhookUrl must be an absolute http or https URL.";
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "webhookUrl must not contain credentials.";
        }

        if (allowPrivate)
        {
            return null;
        }

        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(uri.IdnHost, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(uri.IdnHost, ct);
        }
        catch (SocketException)
        {
            return $"webhookUrl host '{uri.Host}' does not resolve.";
        }

        return addresses.Length == 0 ? $"webhookUrl host '{uri.Host}' does not resolve."
            : addresses.Any(IsForbidden) ? $"webhookUrl host '{uri.Host}' resolves to a loopback, private or link-local address, which webhooks may not call."
            : null;
    }
}
