using System.Net;
using System.Net.Sockets;

namespace QuantTrader.Gateway.ClientAddresses;

/// <summary>
/// The client a per-address limit counts: the IPv4 address, or the /64 network of an IPv6 address (one host
/// commonly owns a whole /64, so counting single IPv6 addresses would give it 2^64 fresh budgets).
/// </summary>
public static class ClientAddress
{
    public static string PartitionKey(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (address is null)
        {
            return "unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }
}
