using System.Net;
using System.Net.Sockets;

namespace QuantTrader.Alert.Webhooks;

/// <summary>How a webhook may treat an address.</summary>
public enum AddressUse
{
    /// <summary>A globally routable address: always allowed.</summary>
    Public,

    /// <summary>Loopback, RFC 1918 and IPv6 unique-local: allowed only with <c>Alerts:Webhooks:AllowPrivateNetworks</c>
    /// (development, tests, on-premise receivers).</summary>
    Private,

    /// <summary>A special-purpose range (IANA IPv4/IPv6 Special-Purpose Address Registries, RFC 6890): documentation
    /// (TEST-NET), benchmarking, link-local (cloud metadata), carrier-grade NAT, multicast, reserved, translation
    /// prefixes. No real receiver lives there — a URL pointing there is a black hole or a probe — so it is always
    /// refused, whatever the operator allows.</summary>
    SpecialUse,
}

/// <summary>
/// SSRF guard for webhook URLs. Checked when a rule is created and again on every connection (the resolved address is
/// what is checked, so DNS rebinding cannot slip past). See <see cref="AddressUse"/> for what is refused when.
/// </summary>
public static class WebhookAddressPolicy
{
    private static readonly AddressRange[] PrivateRanges =
    [
        new("127.0.0.0/8", "loopback"),
        new("10.0.0.0/8", "private-use"),
        new("172.16.0.0/12", "private-use"),
        new("192.168.0.0/16", "private-use"),
        new("::1/128", "loopback"),
        new("fc00::/7", "unique-local"),
    ];

    private static readonly AddressRange[] SpecialUseRanges =
    [
        new("0.0.0.0/8", "'this network'"),
        new("100.64.0.0/10", "shared address space (carrier-grade NAT)"),
        new("169.254.0.0/16", "link-local (cloud metadata)"),
        new("192.0.0.0/24", "IETF protocol assignments"),
        new("192.0.2.0/24", "documentation (TEST-NET-1)"),
        new("192.31.196.0/24", "AS112"),
        new("192.52.193.0/24", "AMT"),
        new("192.88.99.0/24", "6to4 relay anycast"),
        new("192.175.48.0/24", "AS112 direct delegation"),
        new("198.18.0.0/15", "benchmarking"),
        new("198.51.100.0/24", "documentation (TEST-NET-2)"),
        new("203.0.113.0/24", "documentation (TEST-NET-3)"),
        new("224.0.0.0/4", "multicast"),
        new("240.0.0.0/4", "reserved"),        // includes 255.255.255.255, limited broadcast
        new("::/96", "unspecified or IPv4-compatible"),
        new("64:ff9b:1::/48", "local-use IPv4/IPv6 translation"),
        new("100::/64", "discard-only"),
        new("2001::/23", "IETF protocol assignments (Teredo, ORCHID, benchmarking)"),
        new("2001:db8::/32", "documentation"),
        new("2002::/16", "6to4"),
        new("3fff::/20", "documentation"),
        new("5f00::/16", "segment routing"),
        new("fe80::/10", "link-local"),
        new("fec0::/10", "site-local"),
        new("ff00::/8", "multicast"),
    ];

    /// <summary>What <paramref name="address"/> is, and the name of the range it is in (null for public).</summary>
    public static (AddressUse Use, string? Range) Classify(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        else if (address.AddressFamily == AddressFamily.InterNetworkV6 && IsNat64WellKnown(address, out var embedded))
        {
            // 64:ff9b::/96 reaches the embedded IPv4 address through a translator: judge that address.
            address = embedded;
        }

        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            return (AddressUse.SpecialUse, "not an IP address");
        }

        // Private first: the special-use ::/96 contains ::1, which is loopback.
        if (PrivateRanges.FirstOrDefault(r => r.Contains(address)) is { } privateRange)
        {
            return (AddressUse.Private, privateRange.Name);
        }

        return SpecialUseRanges.FirstOrDefault(r => r.Contains(address)) is { } special
            ? (AddressUse.SpecialUse, special.Name)
            : (AddressUse.Public, null);
    }

    /// <summary>
    /// An HTTP handler for users' URLs: no redirects (a redirect could lead anywhere), and the policy applied in the
    /// connect callback to the address actually dialled (so DNS rebinding cannot slip past the check at creation).
    /// </summary>
    public static SocketsHttpHandler GuardedHandler(bool allowPrivate)
    {
        return new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectCallback = async (context, ct) =>
            {
                var addresses = await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, ct);
                var allowed = addresses.Where(a => IsAllowed(a, allowPrivate)).ToArray();
                if (allowed.Length == 0)
                {
                    throw new HttpRequestException($"webhook host {context.DnsEndPoint.Host} resolves only to forbidden (special-use, loopback or private) addresses");
                }

                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
    }

    /// <summary>Whether a webhook may connect to <paramref name="address"/>.</summary>
    public static bool IsAllowed(IPAddress address, bool allowPrivate) => Classify(address).Use switch
    {
        AddressUse.Public => true,
        AddressUse.Private => allowPrivate,
        _ => false,
    };

    /// <summary>The longest webhook URL: stored with the rule and sent with every delivery (browsers' practical limit).</summary>
    public const int MaxUrlLength = 2048;

    /// <summary>Null when the URL is acceptable, else why not (for a 400 naming <c>webhookUrl</c>).</summary>
    public static async Task<string?> CheckAsync(string url, bool allowPrivate, CancellationToken ct)
    {
        if (url.Length > MaxUrlLength)
        {
            return $"webhookUrl must be at most {MaxUrlLength} characters.";
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return "webhookUrl must be an absolute http or https URL.";
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "webhookUrl must not contain credentials.";
        }

        return await CheckHostAsync(uri.IdnHost, $"webhookUrl host '{uri.Host}'", "webhooks", allowPrivate, ct);
    }

    /// <summary>Null when <paramref name="host"/> (a name or an address literal) resolves only to addresses a user's
    /// destination may have, else why not — the reason begins with <paramref name="subject"/> and names
    /// <paramref name="callers"/> as what may not call there.</summary>
    public static async Task<string?> CheckHostAsync(string host, string subject, string callers, bool allowPrivate, CancellationToken ct)
    {
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        }
        catch (SocketException)
        {
            return $"{subject} does not resolve.";
        }

        if (addresses.Length == 0)
        {
            return $"{subject} does not resolve.";
        }

        foreach (var address in addresses)
        {
            var (use, range) = Classify(address);
            if (use == AddressUse.SpecialUse)
            {
                return $"{subject} resolves to {address}, in the special-use range '{range}', which {callers} may not call.";
            }

            if (use == AddressUse.Private && !allowPrivate)
            {
                return $"{subject} resolves to {address}, a {range} address, which {callers} may not call.";
            }
        }

        return null;
    }

    private static bool IsNat64WellKnown(IPAddress address, out IPAddress embedded)
    {
        var b = address.GetAddressBytes();
        // 64:ff9b::/96
        var isNat64 = b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0;
        embedded = isNat64 ? new IPAddress(b.AsSpan(12, 4)) : address;
        return isNat64;
    }

    /// <summary>A CIDR block, compared as a big-endian number of 32 or 128 bits.</summary>
    private sealed class AddressRange
    {
        private readonly AddressFamily _family;
        private readonly UInt128 _network;
        private readonly UInt128 _mask;

        public AddressRange(string cidr, string name)
        {
            var slash = cidr.IndexOf('/', StringComparison.Ordinal);
            var network = IPAddress.Parse(cidr[..slash]);
            var prefix = int.Parse(cidr[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            _family = network.AddressFamily;
            var bits = _family == AddressFamily.InterNetwork ? 32 : 128;
            _mask = prefix == 0 ? UInt128.Zero : (UInt128.MaxValue << (128 - prefix)) >> (128 - bits);
            _network = ToNumber(network) & _mask;
            Name = name;
        }

        public string Name { get; }

        public bool Contains(IPAddress address) => address.AddressFamily == _family && (ToNumber(address) & _mask) == _network;

        private static UInt128 ToNumber(IPAddress address)
        {
            Span<byte> bytes = stackalloc byte[16];
            address.TryWriteBytes(bytes, out var written);
            var value = UInt128.Zero;
            for (var i = 0; i < written; i++)
            {
                value = (value << 8) | bytes[i];
            }

            return value;
        }
    }
}
