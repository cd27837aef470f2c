using System.Globalization;
using Aspire.Hosting.ApplicationModel;

namespace QuantTrader.AppHost.Kubernetes;

/// <summary>
/// Turns the app model's values (endpoint references, connection strings, parameters, expressions) into what they
/// are inside the cluster: an endpoint's host is its Service's DNS name, its port the Service port; a secret
/// parameter becomes <c>$(VAR)</c>, a variable filled from the Secret by <c>secretKeyRef</c>, so no secret value is
/// ever written into a manifest.
/// </summary>
internal sealed class ValueResolver(ClusterNetwork network, KubernetesOptions options)
{
    /// <summary>Secret parameters the resolved values referred to, by environment variable name.</summary>
    public Dictionary<string, ParameterResource> SecretReferences { get; } = new(StringComparer.Ordinal);

    /// <summary>The endpoints the resolved values point at: the connections the workload will open (its NetworkPolicy).</summary>
    public HashSet<(IResource Resource, string Endpoint)> Endpoints { get; } = [];

    public static string SecretVariable(ParameterResource parameter) =>
        "QT_SECRET_" + new string(parameter.Name.Select(c => char.IsLetterOrDigit(c) ? char.ToUpperInvariant(c) : '_').ToArray());

    public async Task<string> ResolveAsync(object? value, CancellationToken ct)
    {
        switch (value)
        {
            case null:
                return "";
            case string s:
                return s;
            case ParameterResource parameter when parameter.Secret:
                var variable = SecretVariable(parameter);
                SecretReferences[variable] = parameter;
                return $"$({variable})";
            case ParameterResource parameter:
                return await parameter.GetValueAsync(ct) ?? throw new InvalidOperationException(
                    $"Parameter '{parameter.Name}' has no value: set Parameters:{parameter.Name} (environment Parameters__{parameter.Name}).");
            case ConnectionStringReference reference:
                return await ResolveAsync(reference.Resource.ConnectionStringExpression, ct);
            case IResourceWithConnectionString resource:
                return await ResolveAsync(resource.ConnectionStringExpression, ct);
            case EndpointReference endpoint:
                Endpoints.Add((endpoint.Resource, endpoint.EndpointName));
                return network.Property(endpoint, EndpointProperty.Url);
            case EndpointReferenceExpression expression:
                Endpoints.Add((expression.Endpoint.Resource, expression.Endpoint.EndpointName));
                return network.Property(expression.Endpoint, expression.Property);
            case ReferenceExpression { IsConditional: true } conditional:
                var condition = await ResolveAsync(conditional.Condition, ct);
                return await ResolveAsync(string.Equals(condition, conditional.MatchValue, StringComparison.OrdinalIgnoreCase)
                    ? conditional.WhenTrue : conditional.WhenFalse, ct);
            case ReferenceExpression expression:
                var args = new object[expression.ValueProviders.Count];
                for (var i = 0; i < args.Length; i++)
                {
                    var resolved = await ResolveAsync(expression.ValueProviders[i], ct);
                    var format = i < expression.StringFormats.Count ? expression.StringFormats[i] : null;
                    // A $(VAR) reference must stay intact for Kubernetes to expand it.
                    args[i] = format == "uri" && !resolved.StartsWith("$(", StringComparison.Ordinal) ? Uri.EscapeDataString(resolved) : resolved;
                }
                return string.Format(CultureInfo.InvariantCulture, expression.Format, args);
            case IResourceBuilder<IResource> builder:
                return await ResolveAsync(builder.Resource, ct);
            case IFormattable formattable:
                return formattable.ToString(null, CultureInfo.InvariantCulture);
            default:
                throw new NotSupportedException(
                    $"The Kubernetes publisher cannot express a value of type {value.GetType().Name} ({value}); add a case to {nameof(ValueResolver)}.");
        }
    }

    public string SecretName => options.SecretName;
}

/// <summary>Ports and DNS names of the app model's endpoints inside the cluster.</summary>
internal sealed class ClusterNetwork
{
    /// <summary>What .NET's container images listen on (ASPNETCORE_HTTP_PORTS), and what a project endpoint without a target port gets.</summary>
    public const int DefaultProjectPort = 8080;

    private readonly Dictionary<(IResource, string), int> _ports = [];

    public ClusterNetwork(IEnumerable<IResource> resources)
    {
        foreach (var resource in resources)
        {
            var next = DefaultProjectPort;
            foreach (var endpoint in resource.Annotations.OfType<EndpointAnnotation>())
            {
                var port = endpoint.TargetPort ?? next++;
                _ports[(resource, endpoint.Name)] = port;
            }
        }
    }

    /// <summary>Container port and Service port (the same number: <c>http://accounts:8080</c>).</summary>
    public int Port(IResource resource, string endpointName) =>
        _ports.TryGetValue((resource, endpointName), out var port)
            ? port
            : throw new InvalidOperationException($"Resource '{resource.Name}' has no endpoint '{endpointName}'.");

    public string Property(EndpointReference endpoint, EndpointProperty property)
    {
        var host = endpoint.Resource.Name; // the Service's DNS name in the namespace
        var port = Port(endpoint.Resource, endpoint.EndpointName).ToString(CultureInfo.InvariantCulture);
        var scheme = endpoint.EndpointAnnotation.UriScheme;
        return property switch
        {
            EndpointProperty.Url => $"{scheme}://{host}:{port}",
            EndpointProperty.Host or EndpointProperty.IPV4Host => host,
            EndpointProperty.Port or EndpointProperty.TargetPort => port,
            EndpointProperty.HostAndPort => $"{host}:{port}",
            EndpointProperty.Scheme => scheme,
            EndpointProperty.TlsEnabled => bool.FalseString,
            _ => throw new NotSupportedException($"Endpoint property {property} of {endpoint.Resource.Name}/{endpoint.EndpointName}."),
        };
    }
}
