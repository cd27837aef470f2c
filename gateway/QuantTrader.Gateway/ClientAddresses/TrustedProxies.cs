using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using IPNetwork = System.Net.IPNetwork;

namespace QuantTrader.Gateway.ClientAddresses;

/// <summary>
/// Which peers may tell the gateway who the client is (<c>X-Forwarded-For</c>, <c>X-Forwarded-Proto</c>):
/// only the networks in <c>QuantTrader:Gateway:TrustedProxies</c> (CIDR or single addresses, separated by commas),
/// and nobody by default. The client address decides the anonymous and authentication-failure limits, so a header
/// believed from anyone would let every request claim a fresh address.
/// </summary>
/// <remarks>
/// ASP.NET Core's own switch (<c>ASPNETCORE_FORWARDEDHEADERS_ENABLED</c>, which container publishing sets) trusts
/// every peer; the options below are post-configured, so they win over it whichever way the middleware is added.
/// </remarks>
public static class TrustedProxies
{
    public const string SettingName = "QuantTrader:Gateway:TrustedProxies";

    public static IHostApplicationBuilder AddTrustedProxies(this IHostApplicationBuilder builder)
    {
        var networks = Parse(builder.Configuration[SettingName]);
        builder.Services.PostConfigure<ForwardedHeadersOptions>(options =>
        {
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            // Empty lists mean "trust every peer" to the middleware, so no trusted network means no forwarding at all.
            options.ForwardedHeaders = networks.Count == 0
                ? ForwardedHeaders.None
                : ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            foreach (var network in networks)
            {
                options.KnownIPNetworks.Add(network);
            }
        });
        return builder;
    }

    public static WebApplication UseTrustedForwardedHeaders(this WebApplication app)
    {
        app.UseForwardedHeaders();
        return app;
    }

    /// <summary>A wrong entry stops the gateway at start-up: silently trusting less (or more) than meant is worse.</summary>
    public static IReadOnlyList<IPNetwork> Parse(string? setting)
    {
        var networks = new List<IPNetwork>();
        foreach (var entry in (setting ?? "").Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (IPNetwork.TryParse(entry, out var network))
            {
                networks.Add(network);
            }
            else if (IPAddress.TryParse(entry, out var address))
            {
                networks.Add(new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            }
            else
            {
                throw new InvalidOperationException($"{SettingName}: '{entry}' is neither a network (10.0.0.0/8) nor an address.");
            }
        }
        return networks;
    }
}
