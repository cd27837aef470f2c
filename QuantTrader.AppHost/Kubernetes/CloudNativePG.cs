using Aspire.Hosting.ApplicationModel;
using k8s;
using k8s.Models;

namespace QuantTrader.AppHost.Kubernetes;

/// <summary>
/// <c>--database cnpg</c>: the model's PostgreSQL becomes a CloudNativePG <c>Cluster</c> of the same name (the
/// operator must be installed in the cluster; it runs one primary and streaming standbys, fails over, and owns the
/// volumes). What the operator creates and the services use, per the CloudNativePG documentation ("Connecting from an
/// application"): the Service <c>{cluster}-rw</c> on the primary, and the basic-auth Secret <c>{cluster}-app</c> with
/// the database owner's <c>username</c>, <c>password</c> (also host, port, dbname, pgpass, uri, jdbc-uri).
/// </summary>
internal static class CloudNativePG
{
    public const int Port = 5432;
    /// <summary>The label the operator puts on every instance pod of a cluster.</summary>
    public const string ClusterLabel = "cnpg.io/cluster";
    /// <summary>Where the operator runs by default (its manifests and Helm chart): its status checks come from there.</summary>
    public const string OperatorNamespace = "cnpg-system";
    /// <summary>The instance manager's status port, which the operator polls.</summary>
    public const int StatusPort = 8000;

    public static string PrimaryService(IResource server) => $"{server.Name}-rw";

    public static string AppSecret(IResource server) => $"{server.Name}-app";

    public static List<IKubernetesObject> Objects(PostgresServerResource server, DistributedApplicationModel model, KubernetesOptions options,
        IDictionary<string, string> labels)
    {
        var databases = model.Resources.OfType<PostgresDatabaseResource>().Where(d => d.Parent == server).ToList();
        if (databases.Count != 1)
        {
            throw new InvalidOperationException(
                $"--database cnpg creates one database per cluster; '{server.Name}' has {databases.Count} ({string.Join(", ", databases.Select(d => d.DatabaseName))}).");
        }
        var storage = new Dictionary<string, object> { ["size"] = options.StorageSize };
        if (options.StorageClass is { } storageClass)
        {
            storage["storageClass"] = storageClass;
        }
        return
        [
            new Cluster
            {
                Metadata = new V1ObjectMeta { Name = server.Name, Labels = labels },
                Spec = new Dictionary<string, object>
                {
                    // One primary and standbys; the operator spreads them over nodes (its default pod anti-affinity).
                    ["instances"] = options.CnpgInstances,
                    ["storage"] = storage,
                    // The database and its owner, whose credentials the operator puts into {cluster}-app. The owner
                    // runs persistence's migrations; the other services connect as the same role.
                    ["bootstrap"] = new Dictionary<string, object>
                    {
                        ["initdb"] = new Dictionary<string, object> { ["database"] = databases[0].DatabaseName, ["owner"] = databases[0].DatabaseName },
                    },
                    ["resources"] = new Dictionary<string, object>
                    {
                        ["requests"] = new Dictionary<string, object> { ["cpu"] = "250m", ["memory"] = "256Mi" },
                        ["limits"] = new Dictionary<string, object> { ["cpu"] = "2", ["memory"] = "1Gi" },
                    },
                },
            },
        ];
    }

    /// <summary>A CloudNativePG Cluster (<c>postgresql.cnpg.io/v1</c>), which KubernetesClient has no model for.</summary>
    internal sealed class Cluster : IKubernetesObject<V1ObjectMeta>
    {
        public string ApiVersion { get; set; } = "postgresql.cnpg.io/v1";
        public string Kind { get; set; } = "Cluster";
        public V1ObjectMeta Metadata { get; set; } = new();
        public Dictionary<string, object> Spec { get; set; } = [];
    }
}
