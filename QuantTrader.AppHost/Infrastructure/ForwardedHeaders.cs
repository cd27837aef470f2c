namespace QuantTrader.AppHost.Infrastructure;

public static class ForwardedHeaders
{
    /// <summary>
    /// The networks (CIDRs, comma separated) whose X-Forwarded-For the gateway believes: the load balancer's or ingress
    /// controller's. <c>QuantTrader:TrustedProxies</c>, or <c>--trusted-proxy-networks</c> for the Kubernetes
    /// publisher. A deployment always sets it (empty: no proxy is trusted, the peer address is the client's); a local
    /// run leaves the gateway's own default unless configured.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithTrustedProxyNetworks(this IResourceBuilder<ProjectResource> gateway, IDistributedApplicationBuilder builder)
    {
        var networks = builder.Configuration["trusted-proxy-networks"] ?? builder.Configuration["QuantTrader:TrustedProxies"];
        if (networks is null && !builder.ExecutionContext.IsPublishMode)
        {
            return gateway;
        }
        return gateway.WithEnvironment("QuantTrader__Gateway__TrustedProxies", networks ?? "");
    }
}
