using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace QuantTrader.AppHost.Kubernetes;

public enum GatewayExposure
{
    LoadBalancer,
    Ingress,
}

/// <summary>
/// Options of <c>--publisher kubernetes</c>, read from the command line (<c>--registry r --tag t ...</c>) or any other
/// configuration source under the same keys.
/// </summary>
public sealed record KubernetesOptions
{
    /// <summary>Image registry (and optional path) of the service images: <c>{Registry}/{name}:{Tag}</c>.</summary>
    public string Registry { get; init; } = "localhost:5000/quanttrader";
    /// <summary>The image tag: this build's version unless given. Never <c>latest</c>: a pod restarted later must run what was deployed.</summary>
    public string Tag { get; init; } = Version;
    /// <summary>The fixed non-root user of every container without its own (the .NET images' <c>app</c> user).</summary>
    public long RunAsUser { get; init; } = 1654;
    public string Namespace { get; init; } = "quanttrader";
    public string PartOf { get; init; } = "quanttrader";
    public GatewayExposure Exposure { get; init; } = GatewayExposure.LoadBalancer;
    public string? IngressHost { get; init; }
    public string? IngressClass { get; init; }
    /// <summary>Replicas of every service without its own <c>WithReplicas</c> in the app model.</summary>
    public int Replicas { get; init; } = 1;
    public string CpuRequest { get; init; } = "100m";
    public string MemoryRequest { get; init; } = "256Mi";
    public string CpuLimit { get; init; } = "1";
    public string MemoryLimit { get; init; } = "512Mi";
    public string StorageSize { get; init; } = "10Gi";
    public string? StorageClass { get; init; }
    /// <summary>OTLP collector the services export traces, metrics and logs to; none when unset.</summary>
    public string? OtlpEndpoint { get; init; }
    public string SecretName { get; init; } = "quanttrader-secrets";

    /// <summary>The AppHost's version (its assembly's informational version without the commit): the tag images are built with.</summary>
    public static string Version =>
        (typeof(KubernetesOptions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "1.0.0").Split('+')[0];

    public string ImageFor(string name) => $"{Registry.TrimEnd('/')}/{name}:{Tag}".TrimStart('/');

    public static KubernetesOptions From(IConfiguration configuration)
    {
        var defaults = new KubernetesOptions();
        string Get(string key, string fallback) => configuration[key] is { Length: > 0 } v ? v : fallback;
        string? Optional(string key) => configuration[key] is { Length: > 0 } v ? v : null;

        var exposure = Get("exposure", "loadbalancer").ToLowerInvariant() switch
        {
            "loadbalancer" => GatewayExposure.LoadBalancer,
            "ingress" => GatewayExposure.Ingress,
            var other => throw new ArgumentException($"--exposure must be 'loadbalancer' or 'ingress', not '{other}'."),
        };
        var replicasText = Get("replicas", "1");
        if (!int.TryParse(replicasText, NumberStyles.None, CultureInfo.InvariantCulture, out var replicas) || replicas < 1)
        {
            throw new ArgumentException($"--replicas must be a positive whole number, not '{replicasText}'.");
        }
        var tag = Get("tag", defaults.Tag);
        if (string.Equals(tag, "latest", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"--tag latest is refused: a restarted pod would pull whatever 'latest' is then. Give the version the images were built with (default {defaults.Tag}).");
        }
        var runAsText = Get("run-as-user", defaults.RunAsUser.ToString(CultureInfo.InvariantCulture));
        if (!long.TryParse(runAsText, NumberStyles.None, CultureInfo.InvariantCulture, out var runAs) || runAs < 1)
        {
            throw new ArgumentException($"--run-as-user must be a non-root user id (1 or more), not '{runAsText}'.");
        }
        return new KubernetesOptions
        {
            RunAsUser = runAs,
            Registry = Get("registry", defaults.Registry),
            Tag = tag,
            Namespace = Get("namespace", defaults.Namespace),
            Exposure = exposure,
            IngressHost = Optional("ingress-host"),
            IngressClass = Optional("ingress-class"),
            Replicas = replicas,
            CpuRequest = Get("cpu-request", defaults.CpuRequest),
            MemoryRequest = Get("memory-request", defaults.MemoryRequest),
            CpuLimit = Get("cpu-limit", defaults.CpuLimit),
            MemoryLimit = Get("memory-limit", defaults.MemoryLimit),
            StorageSize = Get("storage-size", defaults.StorageSize),
            StorageClass = Optional("storage-class"),
            OtlpEndpoint = Optional("otlp-endpoint"),
        };
    }
}
