using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Aspire.Hosting.ApplicationModel;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace QuantTrader.AppHost.Kubernetes;

/// <summary>
/// Writes a kustomize folder for the app model: per project a Deployment and a ClusterIP Service; per container a
/// StatefulSet (when it has volumes: one PersistentVolumeClaim each) or a Deployment; configuration files as
/// ConfigMaps; secret parameters as keys of one Secret generated from <c>secrets.env</c> (gitignored). Nothing here
/// names a QuantTrader service: a project added to the AppHost gets its manifests from its annotations.
/// </summary>
public sealed class KubernetesManifestGenerator(
    DistributedApplicationModel model,
    DistributedApplicationExecutionContext executionContext,
    KubernetesOptions options,
    IConfiguration configuration,
    ILogger logger)
{
    private const string WaitImage = "busybox:1.36";
    /// <summary>The .NET host's shutdown timeout (ServiceDefaults binds the <c>HostOptions</c> section).</summary>
    public const string ShutdownTimeoutVariable = "HostOptions__ShutdownTimeout";
    private static readonly TimeSpan ShutdownMargin = TimeSpan.FromSeconds(5);
    private const string SecretsFile = "secrets.env";

    private readonly ClusterNetwork _network = new(model.Resources);
    private readonly SortedDictionary<string, ParameterResource> _secretParameters = new(StringComparer.Ordinal);
    /// <summary>Who connects to what: every endpoint a workload's configuration points at, and every port its init containers wait on.</summary>
    private readonly HashSet<(IResource From, IResource To, int Port)> _flows = [];
    /// <summary>The services whose database is an external or CloudNativePG one (their NetworkPolicy lets them reach it).</summary>
    private readonly HashSet<IResource> _databaseClients = [];

    /// <summary>Writes the folder and returns how many app-model resources became workloads.</summary>
    public async Task<int> WriteAsync(string directory, CancellationToken ct)
    {
        Directory.CreateDirectory(directory);
        var files = new List<string> { "namespace.yaml" };
        await WriteYamlAsync(directory, "namespace.yaml", [new V1Namespace
        {
            ApiVersion = "v1", Kind = "Namespace",
            Metadata = new V1ObjectMeta { Name = options.Namespace, Labels = new Dictionary<string, string> { ["app.kubernetes.io/part-of"] = options.PartOf } },
        }], ct);

        var workloads = 0;
        foreach (var resource in model.Resources)
        {
            List<IKubernetesObject> objects;
            switch (resource)
            {
                case ProjectResource project:
                    objects = await ProjectAsync(project, ct);
                    break;
                case PostgresServerResource when options.Database == DatabaseMode.External:
                    // The services read the operator's Secret instead (ProjectAsync); nothing runs here.
                    logger.LogInformation("{Name}: external database from Secret {Secret} (key {Key}); no PostgreSQL is deployed.",
                        resource.Name, options.DatabaseSecret, KubernetesOptions.DatabaseSecretKey);
                    continue;
                case PostgresServerResource server when options.Database == DatabaseMode.CloudNativePG:
                    objects = CloudNativePG.Objects(server, model, options, Labels(server.Name, "database"));
                    break;
                case ContainerResource container:
                    objects = await ContainerAsync(container, ct);
                    break;
                case ParameterResource:
                case IResourceWithParent: // a database inside its server: created by the server's init script
                    continue;
                case ExecutableResource executable:
                    throw new InvalidOperationException(
                        $"Resource '{executable.Name}' is a local executable and cannot be deployed to Kubernetes; give it a container image in publish mode.");
                default:
                    logger.LogWarning("Resource {Name} ({Type}) has no Kubernetes form and is left out.", resource.Name, resource.GetType().Name);
                    continue;
            }
            var file = $"{resource.Name}.yaml";
            await WriteYamlAsync(directory, file, objects, ct);
            files.Add(file);
            workloads++;
        }

        await WriteYamlAsync(directory, "network-policies.yaml", NetworkPolicies.For(model.Resources, _flows, _network, options, _databaseClients), ct);
        files.Add("network-policies.yaml");

        await File.WriteAllTextAsync(Path.Combine(directory, "kustomization.yaml"), Kustomization(files), ct);
        await WriteSecretsAsync(directory, ct);
        return workloads;
    }

    // ---------------------------------------------------------------- projects

    private async Task<List<IKubernetesObject>> ProjectAsync(ProjectResource project, CancellationToken ct)
    {
        var external = project.Annotations.OfType<EndpointAnnotation>().Any(e => e.IsExternal);
        var labels = Labels(project.Name, external ? "gateway" : "service");
        var env = await EnvironmentAsync(project, ct, DatabaseEnvironment(project));
        if (!env.Any(e => e.Name == "OTEL_SERVICE_NAME"))
        {
            env.Add(Env("OTEL_SERVICE_NAME", project.Name));
        }
        if (options.OtlpEndpoint is { } otlp)
        {
            // Endpoint and protocol together: the .NET exporter's default protocol depends on the package version,
            // and a gRPC collector port answers an http/protobuf exporter with nothing it can read.
            SetEnv(env, "OTEL_EXPORTER_OTLP_ENDPOINT", otlp);
            SetEnv(env, "OTEL_EXPORTER_OTLP_PROTOCOL", options.OtlpProtocol);
        }
        if (_flows.Any(f => f.From == project && f.To.Annotations.OfType<NatsClusterAnnotation>().Any()))
        {
            // Every stream the service creates gets this many copies on different servers (StreamSetup.Replicas).
            env.Add(Env("Nats__StreamReplicas", options.StreamReplicas.ToString(CultureInfo.InvariantCulture)));
        }
        // One JSON object per line: what a cluster's log collector parses; the local run keeps the readable console.
        env.Add(Env("Logging__Console__FormatterName", "json"));

        var http = project.Annotations.OfType<EndpointAnnotation>().FirstOrDefault(e => e.UriScheme == "http")
            ?? throw new InvalidOperationException($"Project '{project.Name}' has no http endpoint for its health probes.");
        var container = new V1Container
        {
            Name = project.Name,
            Image = options.ImageFor(project.Name),
            ImagePullPolicy = "IfNotPresent",
            Ports = ContainerPorts(project),
            Env = env,
            Resources = Resources(options.CpuRequest, options.MemoryRequest, options.CpuLimit, options.MemoryLimit),
            // Probes from the model when it declares them, else the ServiceDefaults contract every project follows:
            // /health = ready for traffic (dependencies reachable), /alive = the process works.
            ReadinessProbe = HttpProbe(project, ProbeType.Readiness) ?? new V1Probe
            {
                HttpGet = new V1HTTPGetAction { Path = "/health", Port = http.Name }, PeriodSeconds = 10, FailureThreshold = 3,
            },
            LivenessProbe = HttpProbe(project, ProbeType.Liveness) ?? new V1Probe
            {
                HttpGet = new V1HTTPGetAction { Path = "/alive", Port = http.Name }, InitialDelaySeconds = 10, PeriodSeconds = 20, FailureThreshold = 3,
            },
            SecurityContext = Hardening.Container(),
        };
        var (volumes, mounts) = Hardening.WritableDirectories(project);
        container.VolumeMounts = mounts;
        var replicas = project.Annotations.OfType<ReplicaAnnotation>().LastOrDefault()?.Replicas ?? options.Replicas;
        // A replica that counts on its own (the gateway's rate limits) enforces its share of the limit.
        env.Add(Env("QuantTrader__Replicas", replicas.ToString(CultureInfo.InvariantCulture)));
        // SIGTERM starts the drain; the host gives its services the shutdown timeout to stop, 5 s less than the pod's
        // grace period, so the process finishes (and logs) its own shutdown before the kubelet's SIGKILL at the end.
        var drainTime = project.Annotations.OfType<DrainTimeAnnotation>().LastOrDefault()?.DrainTime ?? DeploymentAnnotationExtensions.DefaultDrainTime;
        if (!env.Any(e => e.Name == ShutdownTimeoutVariable))
        {
            env.Add(Env(ShutdownTimeoutVariable, (drainTime - ShutdownMargin).ToString("c", CultureInfo.InvariantCulture)));
        }
        var objects = new List<IKubernetesObject>
        {
            new V1Deployment
            {
                ApiVersion = "apps/v1", Kind = "Deployment",
                Metadata = Meta(project.Name, labels),
                Spec = new V1DeploymentSpec
                {
                    Replicas = replicas,
                    // One new pod rolls in before an old one leaves (maxSurge 1, maxUnavailable 0): capacity never drops
                    // during an update, and a partitioned service hands over one share at a time (docs/scaling.md).
                    Strategy = new V1DeploymentStrategy
                    {
                        Type = "RollingUpdate",
                        RollingUpdate = new V1RollingUpdateDeployment { MaxSurge = 1, MaxUnavailable = 0 },
                    },
                    Selector = new V1LabelSelector { MatchLabels = Selector(project.Name) },
                    Template = new V1PodTemplateSpec
                    {
                        Metadata = new V1ObjectMeta { Labels = labels },
                        Spec = new V1PodSpec
                        {
                            InitContainers = WaitContainers(project), Containers = [container], Volumes = volumes,
                            SecurityContext = Hardening.Pod(RunAsUser(project)),
                            TerminationGracePeriodSeconds = (long)drainTime.TotalSeconds,
                            // The services never call the Kubernetes API: no token in their filesystem.
                            AutomountServiceAccountToken = false,
                        },
                    },
                },
            },
            Service(project, labels, external && options.Exposure == GatewayExposure.LoadBalancer),
        };
        if (external && options.Exposure == GatewayExposure.Ingress)
        {
            objects.Add(Ingress(project, http, labels));
        }
        if (replicas > 1)
        {
            // A node drain or cluster upgrade takes its replicas one at a time, never all of them at once.
            objects.Add(new V1PodDisruptionBudget
            {
                ApiVersion = "policy/v1", Kind = "PodDisruptionBudget",
                Metadata = Meta(project.Name, labels),
                Spec = new V1PodDisruptionBudgetSpec { MaxUnavailable = 1, Selector = new V1LabelSelector { MatchLabels = Selector(project.Name) } },
            });
        }
        return objects;
    }

    // ---------------------------------------------------------------- containers

    private async Task<List<IKubernetesObject>> ContainerAsync(ContainerResource resource, CancellationToken ct)
    {
        var image = resource.Annotations.OfType<ContainerImageAnnotation>().LastOrDefault()
            ?? throw new InvalidOperationException($"Container '{resource.Name}' has no image.");
        var labels = Labels(resource.Name, resource is PostgresServerResource ? "database" : "infrastructure");
        var objects = new List<IKubernetesObject>();
        var volumes = new List<V1Volume>();
        var mounts = new List<V1VolumeMount>();
        var env = await EnvironmentAsync(resource, ct);
        // NATS as a cluster of --nats-nodes servers (one server: the single StatefulSet pod, as before).
        var natsCluster = options.NatsNodes > 1 ? resource.Annotations.OfType<NatsClusterAnnotation>().LastOrDefault() : null;
        if (natsCluster is not null)
        {
            env.AddRange(NatsClusterEnvironment(resource, natsCluster));
        }

        // Configuration files: one ConfigMap per directory, mounted read-only.
        foreach (var (group, index) in resource.Annotations.OfType<ConfigFileAnnotation>().GroupBy(f => f.Directory).Select((g, i) => (g, i)))
        {
            var name = $"{resource.Name}-config{(index == 0 ? "" : $"-{index}")}";
            objects.Add(ConfigMap(name, labels, group.ToDictionary(f => f.FileName,
                f => natsCluster is not null && f.FileName == natsCluster.ConfigFileName ? f.Contents + NatsClusterConfig(resource) : f.Contents)));
            volumes.Add(new V1Volume { Name = name, ConfigMap = new V1ConfigMapVolumeSource { Name = name } });
            mounts.Add(new V1VolumeMount { Name = name, MountPath = group.Key, ReadOnlyProperty = true });
        }

        V1Probe? readiness = HttpProbe(resource, ProbeType.Readiness), liveness = HttpProbe(resource, ProbeType.Liveness);
        if (resource is PostgresServerResource postgres)
        {
            // The image creates the databases of the model on first start; a PVC's root holds lost+found, so the
            // cluster lives one folder below it.
            var databases = model.Resources.OfType<PostgresDatabaseResource>().Where(d => d.Parent == postgres).ToList();
            var init = $"{resource.Name}-init";
            var initFiles = new Dictionary<string, string>
            {
                ["create-databases.sql"] = string.Concat(databases.Select(d => $"CREATE DATABASE \"{d.DatabaseName}\";\n")),
            };
            // After the databases (the image runs the files in name order): one role per service, passwords from the Secret.
            var roles = resource.Annotations.OfType<DatabaseRoleAnnotation>().ToList();
            if (roles.Count > 0)
            {
                initFiles["create-roles.sh"] = DatabaseRoles.Script(roles);
                foreach (var role in roles)
                {
                    env.Add(SecretEnv(DatabaseRoles.PasswordVariable(role), role.Password));
                }
            }
            objects.Add(ConfigMap(init, labels, initFiles));
            volumes.Add(new V1Volume { Name = init, ConfigMap = new V1ConfigMapVolumeSource { Name = init } });
            mounts.Add(new V1VolumeMount { Name = init, MountPath = "/docker-entrypoint-initdb.d", ReadOnlyProperty = true });
            env.Add(Env("PGDATA", "/var/lib/postgresql/data/pgdata"));
            var ready = new V1ExecAction { Command = ["sh", "-c", "pg_isready -h 127.0.0.1 -U \"$POSTGRES_USER\""] };
            readiness ??= new V1Probe { Exec = ready, PeriodSeconds = 10 };
            liveness ??= new V1Probe { Exec = ready, InitialDelaySeconds = 30, PeriodSeconds = 20, FailureThreshold = 6 };
        }

        var claims = new List<V1PersistentVolumeClaim>();
        foreach (var mount in resource.Annotations.OfType<ContainerMountAnnotation>())
        {
            if (mount.Type != ContainerMountType.Volume)
            {
                throw new InvalidOperationException($"Container '{resource.Name}' bind-mounts {mount.Source}: use a volume or a config file for Kubernetes.");
            }
            var claim = DnsName(mount.Source ?? $"{resource.Name}-data");
            claims.Add(new V1PersistentVolumeClaim
            {
                Metadata = new V1ObjectMeta { Name = claim, Labels = labels },
                Spec = new V1PersistentVolumeClaimSpec
                {
                    AccessModes = ["ReadWriteOnce"],
                    StorageClassName = options.StorageClass,
                    Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new(options.StorageSize) } },
                },
            });
            mounts.Add(new V1VolumeMount { Name = claim, MountPath = mount.Target, ReadOnlyProperty = mount.IsReadOnly });
        }

        var ports = ContainerPorts(resource);
        if (natsCluster is not null)
        {
            ports = [.. ports ?? [], new V1ContainerPort { Name = "cluster", ContainerPort = NatsClusterAnnotation.RoutePort, Protocol = "TCP" }];
            volumes.Add(new V1Volume { Name = "pid", EmptyDir = new V1EmptyDirVolumeSource() });
            mounts.Add(new V1VolumeMount { Name = "pid", MountPath = NatsClusterAnnotation.PidDirectory });
            // The servers reach each other on the route port (JetStream's replication and RAFT run over it).
            _flows.Add((resource, resource, NatsClusterAnnotation.RoutePort));
        }
        var container = new V1Container
        {
            Name = resource.Name,
            Image = string.IsNullOrEmpty(image.Registry) ? $"{image.Image}:{image.Tag}" : $"{image.Registry}/{image.Image}:{image.Tag}",
            Args = await ArgumentsAsync(resource, ct),
            Ports = ports,
            Env = env.Count == 0 ? null : env,
            Resources = Resources("250m", "256Mi", "2", "1Gi"),
            ReadinessProbe = readiness,
            LivenessProbe = liveness,
            SecurityContext = Hardening.Container(),
        };
        var (writableVolumes, writableMounts) = Hardening.WritableDirectories(resource);
        volumes.AddRange(writableVolumes);
        container.VolumeMounts = [.. mounts, .. writableMounts];
        var pod = new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta { Labels = labels },
            Spec = new V1PodSpec
            {
                InitContainers = WaitContainers(resource), Containers = [container], Volumes = volumes,
                SecurityContext = Hardening.Pod(RunAsUser(resource)),
                AutomountServiceAccountToken = false,
            },
        };
        if (natsCluster is not null)
        {
            ClusterPod(resource, pod.Spec, container);
        }
        // State (a volume) makes a StatefulSet: its own claim per pod that survives rescheduling.
        objects.Insert(0, claims.Count > 0
            ? new V1StatefulSet
            {
                ApiVersion = "apps/v1", Kind = "StatefulSet",
                Metadata = Meta(resource.Name, labels),
                Spec = new V1StatefulSetSpec
                {
                    ServiceName = natsCluster is null ? resource.Name : HeadlessName(resource),
                    Replicas = natsCluster is null ? 1 : options.NatsNodes,
                    // All servers start together: each one's readiness (/healthz) waits for JetStream's meta leader,
                    // which needs a majority of the servers, so OrderedReady would wait for nats-0 forever.
                    PodManagementPolicy = natsCluster is null ? null : "Parallel",
                    Selector = new V1LabelSelector { MatchLabels = Selector(resource.Name) },
                    Template = pod,
                    VolumeClaimTemplates = claims,
                },
            }
            : new V1Deployment
            {
                ApiVersion = "apps/v1", Kind = "Deployment",
                Metadata = Meta(resource.Name, labels),
                Spec = new V1DeploymentSpec { Replicas = 1, Selector = new V1LabelSelector { MatchLabels = Selector(resource.Name) }, Template = pod },
            });
        if (resource.Annotations.OfType<EndpointAnnotation>().Any())
        {
            objects.Insert(1, Service(resource, labels, loadBalancer: false));
        }
        if (natsCluster is not null)
        {
            objects.Insert(2, HeadlessService(resource, labels));
            // A drain or upgrade takes one server at a time: the other two keep a majority, so JetStream keeps
            // accepting writes to its three-replica streams.
            objects.Add(new V1PodDisruptionBudget
            {
                ApiVersion = "policy/v1", Kind = "PodDisruptionBudget",
                Metadata = Meta(resource.Name, labels),
                Spec = new V1PodDisruptionBudgetSpec { MaxUnavailable = 1, Selector = new V1LabelSelector { MatchLabels = Selector(resource.Name) } },
            });
        }
        return objects;
    }

    // ---------------------------------------------------------------- NATS cluster

    private const string RoutePasswordVariable = "NATS_ROUTE_PASSWORD";
    /// <summary>How long a server being stopped keeps its clients while it moves them to the others (lame duck mode).</summary>
    private static readonly TimeSpan NatsLameDuck = TimeSpan.FromSeconds(30);

    private static string HeadlessName(IResource resource) => $"{resource.Name}-headless";

    private static string RouteVariable(int index) => $"NATS_ROUTE_{index}";

    /// <summary>
    /// The pod's own name (<c>server_name</c>: unique and stable across restarts, as JetStream requires), the route
    /// password from the Secret, and each route URL whole: nats.conf cannot put a variable inside a string, Kubernetes
    /// can ($(VAR) in a later variable), so the password never appears in the ConfigMap.
    /// </summary>
    private IEnumerable<V1EnvVar> NatsClusterEnvironment(IResource resource, NatsClusterAnnotation cluster)
    {
        yield return new V1EnvVar { Name = "POD_NAME", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.name" } } };
        yield return SecretEnv(RoutePasswordVariable, cluster.RoutePassword);
        for (var i = 0; i < options.NatsNodes; i++)
        {
            yield return Env(RouteVariable(i),
                $"\"nats://{NatsClusterAnnotation.RouteUser}:$({RoutePasswordVariable})@{resource.Name}-{i}.{HeadlessName(resource)}:{NatsClusterAnnotation.RoutePort}\"");
        }
    }

    private string NatsClusterConfig(IResource resource) =>
        // SIGTERM after the preStop hook's lame-duck signal lets the server finish moving its clients away.
        $"pid_file: {Infrastructure.NatsPermissions.Quote(NatsClusterAnnotation.PidDirectory + "/nats.pid")}\n"
        + $"lame_duck_duration: \"{(int)NatsLameDuck.TotalSeconds}s\"\n"
        + "lame_duck_grace_period: \"10s\"\n"
        + Infrastructure.NatsPermissions.ClusterBlock(new Infrastructure.NatsCluster(
            NatsClusterAnnotation.ClusterName, "$POD_NAME", NatsClusterAnnotation.RoutePort, NatsClusterAnnotation.RouteUser,
            "$" + RoutePasswordVariable, Enumerable.Range(0, options.NatsNodes).Select(i => "$" + RouteVariable(i)).ToList()));

    private void ClusterPod(IResource resource, V1PodSpec pod, V1Container container)
    {
        var sameServer = new V1PodAffinityTerm
        {
            TopologyKey = "kubernetes.io/hostname",
            LabelSelector = new V1LabelSelector { MatchLabels = Selector(resource.Name) },
        };
        // One server per node, so a node's loss takes one replica of each stream, never a majority. Preferred by
        // default: required would leave a server Pending for good on a cluster with fewer nodes than servers (a dev
        // cluster, a node being replaced), and a missing server is worse than two sharing a node. --nats-anti-affinity
        // required makes it a rule where enough nodes are guaranteed.
        pod.Affinity = new V1Affinity
        {
            PodAntiAffinity = options.NatsAntiAffinity == AntiAffinity.Required
                ? new V1PodAntiAffinity { RequiredDuringSchedulingIgnoredDuringExecution = [sameServer] }
                : new V1PodAntiAffinity { PreferredDuringSchedulingIgnoredDuringExecution = [new V1WeightedPodAffinityTerm { Weight = 100, PodAffinityTerm = sameServer }] },
        };
        // Lame duck first (clients reconnect to the other servers over NatsLameDuck), then SIGTERM, which a server in
        // lame duck mode lets finish; the grace period covers both.
        container.Lifecycle = new V1Lifecycle
        {
            PreStop = new V1LifecycleHandler { Exec = new V1ExecAction { Command = ["nats-server", "--signal", $"ldm={NatsClusterAnnotation.PidDirectory}/nats.pid"] } },
        };
        pod.TerminationGracePeriodSeconds = (long)NatsLameDuck.TotalSeconds + 30;
    }

    /// <summary>
    /// DNS for each server (<c>nats-0.nats-headless</c>): the routes. Addresses are published before a server is
    /// ready, since a server only becomes ready once it has found the others.
    /// </summary>
    private V1Service HeadlessService(IResource resource, IDictionary<string, string> labels) => new()
    {
        ApiVersion = "v1", Kind = "Service",
        Metadata = Meta(HeadlessName(resource), labels),
        Spec = new V1ServiceSpec
        {
            Type = "ClusterIP",
            ClusterIP = "None",
            PublishNotReadyAddresses = true,
            Selector = Selector(resource.Name),
            Ports =
            [
                new V1ServicePort { Name = "cluster", Port = NatsClusterAnnotation.RoutePort, TargetPort = "cluster", Protocol = "TCP" },
            ],
        },
    };

    // ---------------------------------------------------------------- values

    /// <summary>
    /// The connection string of a service whose database is not the model's PostgreSQL: the operator's Secret whole
    /// (external), or CloudNativePG's primary with the credentials of the Secret the operator generates for the
    /// database's owner (<c>{cluster}-app</c>, keys <c>username</c>/<c>password</c>). Every service then connects as
    /// that one role: the per-service roles of the in-cluster database need a script at the cluster's creation that
    /// neither a managed database nor CloudNativePG runs for us.
    /// </summary>
    private Dictionary<string, List<V1EnvVar>>? DatabaseEnvironment(IResource project)
    {
        if (options.Database == DatabaseMode.InCluster || project.Annotations.OfType<DatabaseConnectionAnnotation>().LastOrDefault() is not { } connection)
        {
            return null;
        }
        _databaseClients.Add(project);
        List<V1EnvVar> vars = options.Database == DatabaseMode.External
            ? [SecretKeyEnv(connection.Variable, options.DatabaseSecret!, KubernetesOptions.DatabaseSecretKey)]
            :
            [
                SecretKeyEnv("QT_DB_USERNAME", CloudNativePG.AppSecret(connection.Database.Parent), "username"),
                SecretKeyEnv("QT_DB_PASSWORD", CloudNativePG.AppSecret(connection.Database.Parent), "password"),
                Env(connection.Variable,
                    $"Host={CloudNativePG.PrimaryService(connection.Database.Parent)};Port={CloudNativePG.Port};Username=$(QT_DB_USERNAME);Password=$(QT_DB_PASSWORD);Database={connection.Database.DatabaseName}"),
            ];
        return new Dictionary<string, List<V1EnvVar>>(StringComparer.Ordinal) { [connection.Variable] = vars };
    }

    private static V1EnvVar SecretKeyEnv(string name, string secret, string key) => new()
    {
        Name = name,
        ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secret, Key = key } },
    };

    /// <param name="replace">Variables given here instead of the model's value (not resolved: no flow, no secret of the model).</param>
    private async Task<List<V1EnvVar>> EnvironmentAsync(IResource resource, CancellationToken ct, Dictionary<string, List<V1EnvVar>>? replace = null)
    {
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        var context = new EnvironmentCallbackContext(executionContext, resource, values, ct);
        foreach (var callback in resource.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        var resolver = new ValueResolver(_network, options);
        var plain = new List<V1EnvVar>();
        var secrets = new List<V1EnvVar>();
        foreach (var (name, value) in values)
        {
            if (replace is not null && replace.TryGetValue(name, out var replacement))
            {
                // Secret references first, so a later value can use them as $(VAR).
                secrets.AddRange(replacement.Where(e => e.ValueFrom is not null));
                plain.AddRange(replacement.Where(e => e.ValueFrom is null));
                continue;
            }
            if (value is ParameterResource { Secret: true } parameter)
            {
                secrets.Add(SecretEnv(name, parameter)); // the whole value is the secret: no indirection
                continue;
            }
            plain.Add(Env(name, await resolver.ResolveAsync(value, ct)));
        }
        foreach (var (target, endpoint) in resolver.Endpoints)
        {
            if (target != resource)
            {
                _flows.Add((resource, target, _network.Port(target, endpoint)));
            }
        }
        // Secrets inside larger values (a connection string's password) are variables defined before their
        // first use, so Kubernetes expands $(VAR) in place.
        foreach (var (variable, parameter) in resolver.SecretReferences.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            secrets.Add(SecretEnv(variable, parameter));
        }
        return [.. secrets, .. plain];
    }

    private static V1EnvVar Env(string name, string value) => new() { Name = name, Value = value };

    /// <summary>Sets <paramref name="name"/>, replacing a value the model gave it (an env name appears once in a container).</summary>
    private static void SetEnv(List<V1EnvVar> env, string name, string value)
    {
        env.RemoveAll(e => e.Name == name);
        env.Add(Env(name, value));
    }

    private V1EnvVar SecretEnv(string name, ParameterResource parameter)
    {
        _secretParameters[parameter.Name] = parameter;
        return new V1EnvVar
        {
            Name = name,
            ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = options.SecretName, Key = parameter.Name } },
        };
    }

    private async Task<List<string>?> ArgumentsAsync(IResource resource, CancellationToken ct)
    {
        var raw = new List<object>();
        var context = new CommandLineArgsCallbackContext(raw, resource, ct) { ExecutionContext = executionContext };
        foreach (var callback in resource.Annotations.OfType<CommandLineArgsCallbackAnnotation>())
        {
            await callback.Callback(context);
        }
        var resolver = new ValueResolver(_network, options);
        var args = new List<string>();
        foreach (var value in raw)
        {
            args.Add(await resolver.ResolveAsync(value, ct));
        }
        if (resolver.SecretReferences.Count > 0)
        {
            throw new InvalidOperationException($"Resource '{resource.Name}' passes a secret as a command-line argument; pass it in the environment.");
        }
        return args.Count == 0 ? null : args;
    }

    // ---------------------------------------------------------------- pieces

    private List<V1ContainerPort>? ContainerPorts(IResource resource)
    {
        var ports = resource.Annotations.OfType<EndpointAnnotation>()
            .Select(e => new V1ContainerPort { Name = e.Name, ContainerPort = _network.Port(resource, e.Name), Protocol = "TCP" })
            .ToList();
        return ports.Count == 0 ? null : ports;
    }

    private V1Service Service(IResource resource, IDictionary<string, string> labels, bool loadBalancer) => new()
    {
        ApiVersion = "v1", Kind = "Service",
        Metadata = Meta(resource.Name, labels),
        Spec = new V1ServiceSpec
        {
            Type = loadBalancer ? "LoadBalancer" : "ClusterIP",
            Selector = Selector(resource.Name),
            Ports = resource.Annotations.OfType<EndpointAnnotation>().Select(e => new V1ServicePort
            {
                Name = e.Name,
                // The public door answers on the standard port; inside the cluster every port is the container's.
                Port = loadBalancer && e.UriScheme == "http" ? 80 : _network.Port(resource, e.Name),
                TargetPort = e.Name,
                Protocol = "TCP",
            }).ToList(),
        },
    };

    private V1Ingress Ingress(IResource resource, EndpointAnnotation http, IDictionary<string, string> labels) => new()
    {
        ApiVersion = "networking.k8s.io/v1", Kind = "Ingress",
        Metadata = Meta(resource.Name, labels),
        Spec = new V1IngressSpec
        {
            IngressClassName = options.IngressClass,
            Rules =
            [
                new V1IngressRule
                {
                    Host = options.IngressHost,
                    Http = new V1HTTPIngressRuleValue
                    {
                        Paths =
                        [
                            new V1HTTPIngressPath
                            {
                                Path = "/", PathType = "Prefix",
                                Backend = new V1IngressBackend { Service = new V1IngressServiceBackend { Name = resource.Name, Port = new V1ServiceBackendPort { Name = http.Name } } },
                            },
                        ],
                    },
                },
            ],
        },
    };

    private static V1Probe? HttpProbe(IResource resource, ProbeType type) =>
        resource.Annotations.OfType<EndpointProbeAnnotation>().LastOrDefault(p => p.Type == type) is { } probe
            ? new V1Probe
            {
                HttpGet = new V1HTTPGetAction { Path = probe.Path, Port = probe.EndpointReference.EndpointName },
                InitialDelaySeconds = probe.InitialDelaySeconds,
                PeriodSeconds = probe.PeriodSeconds,
                TimeoutSeconds = probe.TimeoutSeconds,
                FailureThreshold = probe.FailureThreshold,
                SuccessThreshold = probe.SuccessThreshold,
            }
            : null;

    /// <summary>
    /// <c>WaitFor</c> in the model becomes an init container that waits until the dependency answers its readiness
    /// check (HTTP when it has one, else its first TCP port), so start order matches a local run.
    /// </summary>
    private List<V1Container>? WaitContainers(IResource resource)
    {
        var waits = new List<V1Container>();
        foreach (var wait in resource.Annotations.OfType<WaitAnnotation>().Where(w => w.WaitType == WaitType.WaitUntilHealthy))
        {
            var target = wait.Resource;
            while (target is IResourceWithParent child)
            {
                target = child.Parent;
            }
            if (waits.Any(w => w.Name == $"wait-for-{target.Name}"))
            {
                continue;
            }
            string check;
            int port;
            if (target is PostgresServerResource && options.Database != DatabaseMode.InCluster)
            {
                // External: its address is in the Secret, and persistence retries until it answers. CloudNativePG:
                // its primary's Service (the NetworkPolicy of a database client already allows it).
                if (options.Database == DatabaseMode.CloudNativePG)
                {
                    var primary = CloudNativePG.PrimaryService(target);
                    waits.Add(WaitContainer(target.Name, $"nc -z {primary} {CloudNativePG.Port}"));
                }
                continue;
            }
            var http = target.Annotations.OfType<EndpointAnnotation>().FirstOrDefault(e => e.UriScheme == "http");
            if (target is ProjectResource && http is not null)
            {
                // A project's /health on its service port (which its clients may reach anyway).
                port = _network.Port(target, http.Name);
                check = $"wget -q -O /dev/null http://{target.Name}:{port}/health";
            }
            else if (target.Annotations.OfType<EndpointAnnotation>().FirstOrDefault() is { } first)
            {
                // Infrastructure: its first (client) port accepts connections. Not its readiness probe: that is on
                // a monitoring port other pods may not reach (NetworkPolicy); the kubelet still probes it.
                port = _network.Port(target, first.Name);
                check = $"nc -z {target.Name} {port}";
            }
            else
            {
                continue;
            }
            _flows.Add((resource, target, port));
            waits.Add(WaitContainer(target.Name, check));
        }
        return waits.Count == 0 ? null : waits;
    }

    private static V1Container WaitContainer(string target, string check) => new()
    {
        Name = $"wait-for-{target}",
        Image = WaitImage,
        Command = ["sh", "-c", $"until {check}; do echo 'waiting for {target}'; sleep 2; done"],
        Resources = Resources("10m", "16Mi", "100m", "32Mi"),
        SecurityContext = Hardening.Container(),
    };

    private V1ConfigMap ConfigMap(string name, IDictionary<string, string> labels, IDictionary<string, string> data) => new()
    {
        ApiVersion = "v1", Kind = "ConfigMap",
        Metadata = Meta(name, labels),
        Data = data,
    };

    private static V1ResourceRequirements Resources(string cpuRequest, string memoryRequest, string cpuLimit, string memoryLimit) => new()
    {
        Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpuRequest), ["memory"] = new(memoryRequest) },
        Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpuLimit), ["memory"] = new(memoryLimit) },
    };

    private Dictionary<string, string> Labels(string name, string component) => new()
    {
        ["app.kubernetes.io/name"] = name,
        ["app.kubernetes.io/part-of"] = options.PartOf,
        ["app.kubernetes.io/component"] = component,
        ["app.kubernetes.io/managed-by"] = "quanttrader-apphost",
    };

    private Dictionary<string, string> Selector(string name) => new()
    {
        ["app.kubernetes.io/name"] = name,
        ["app.kubernetes.io/part-of"] = options.PartOf,
    };

    private long RunAsUser(IResource resource) =>
        resource.Annotations.OfType<ContainerUserAnnotation>().LastOrDefault()?.UserId ?? options.RunAsUser;

    private static V1ObjectMeta Meta(string name, IDictionary<string, string> labels) => new() { Name = name, Labels = labels };

    private static string DnsName(string value)
    {
        var chars = value.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray();
        return new string(chars).Trim('-');
    }

    // ---------------------------------------------------------------- files

    private static async Task WriteYamlAsync(string directory, string file, IEnumerable<IKubernetesObject> objects, CancellationToken ct)
    {
        var text = new StringBuilder("# Generated by: dotnet run --project QuantTrader.AppHost -- --publisher kubernetes (do not edit)\n");
        var first = true;
        foreach (var o in objects)
        {
            var yaml = KubernetesYaml.Serialize(o);
            text.Append(first ? "" : "---\n").Append(yaml).Append(yaml.EndsWith('\n') ? "" : "\n");
            first = false;
        }
        await File.WriteAllTextAsync(Path.Combine(directory, file), text.ToString(), ct);
    }

    private string Kustomization(IEnumerable<string> files)
    {
        var text = new StringBuilder()
            .Append("# Generated by: dotnet run --project QuantTrader.AppHost -- --publisher kubernetes (do not edit)\n")
            .Append("# Deploy: kubectl apply -k <this folder>   (").Append(SecretsFile).Append(" must exist: see ").Append(SecretsFile).Append(".example)\n")
            .Append("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n")
            .Append("namespace: ").Append(options.Namespace).Append('\n')
            .Append("resources:\n");
        foreach (var file in files)
        {
            text.Append("- ").Append(file).Append('\n');
        }
        // The Secret gets a content hash in its name: changing a secret rolls the workloads that use it.
        text.Append("secretGenerator:\n- name: ").Append(options.SecretName).Append("\n  envs:\n  - ").Append(SecretsFile).Append('\n');
        return text.ToString();
    }

    /// <summary>
    /// <c>secrets.env.example</c> names every key; <c>secrets.env</c> (gitignored) holds values: kept when it exists,
    /// else taken from configuration (<c>Parameters__{name}</c>), else generated when the model says the value may
    /// be generated, else left empty for you to fill (optional integrations such as Stripe stay off while empty).
    /// </summary>
    private async Task WriteSecretsAsync(string directory, CancellationToken ct)
    {
        var example = new StringBuilder("# Keys of the Kubernetes Secret '").Append(options.SecretName)
            .Append("'. Copy to secrets.env and fill in; secrets.env is gitignored and never committed.\n");
        foreach (var (name, parameter) in _secretParameters)
        {
            example.Append(parameter.Default is GenerateParameterDefault ? "# generated when empty\n" : "# set by you (empty: the feature is off)\n")
                .Append(name).Append("=\n");
        }
        await File.WriteAllTextAsync(Path.Combine(directory, SecretsFile + ".example"), example.ToString(), ct);
        await File.WriteAllTextAsync(Path.Combine(directory, ".gitignore"), SecretsFile + "\n", ct);

        var path = Path.Combine(directory, SecretsFile);
        var existing = File.Exists(path)
            ? (await File.ReadAllLinesAsync(path, ct)).Where(l => l.Contains('=') && !l.TrimStart().StartsWith('#'))
                .Select(l => l.Split('=', 2)).ToDictionary(p => p[0].Trim(), p => p[1], StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = new StringBuilder("# Secret values for Kubernetes: never commit this file.\n");
        var empty = new List<string>();
        foreach (var (name, parameter) in _secretParameters)
        {
            var value = existing.TryGetValue(name, out var kept) && kept.Length > 0 ? kept
                : configuration[$"Parameters:{name}"] is { Length: > 0 } configured ? configured
                : parameter.Default is GenerateParameterDefault generate ? Generate(generate)
                : "";
            if (value.Length == 0)
            {
                empty.Add(name);
            }
            lines.Append(name).Append('=').Append(value).Append('\n');
        }
        // Owner-only from its first byte (never written first and restricted after).
        Infrastructure.SecretFiles.Write(path, lines.ToString());
        if (empty.Count > 0)
        {
            logger.LogWarning("secrets.env has no value for {Keys}: fill them in before deploying (an empty Stripe key turns billing off).",
                string.Join(", ", empty));
        }
    }

    private static string Generate(GenerateParameterDefault rule)
    {
        // Letters and digits only: the value sits inside connection strings and shell-free env files.
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        var length = Math.Max(rule.MinLength, 32);
        return string.Create(length, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
            }
        });
    }
}
