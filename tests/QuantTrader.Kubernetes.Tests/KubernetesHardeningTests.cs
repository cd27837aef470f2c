using System.Text.RegularExpressions;
using k8s.Models;

namespace QuantTrader.Kubernetes.Tests;

/// <summary>
/// Each hardening property of the generated manifests (issue 16 item 11), read back from the publisher's real output:
/// non-root, read-only roots, no capabilities, NetworkPolicies with only the model's flows, a database role and a NATS
/// user per service with passwords only in the Secret, pinned images, trusted proxy networks, owner-only secrets.env.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class KubernetesHardeningTests(PublishedFolder folder) : IClassFixture<PublishedFolder>
{
    private static readonly string[] PrivateRanges = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

    private List<object> Objects => folder.Objects();

    private IEnumerable<(string Name, V1PodSpec Pod)> Pods =>
        Objects.OfType<V1Deployment>().Select(d => (d.Metadata.Name, d.Spec.Template.Spec))
            .Concat(Objects.OfType<V1StatefulSet>().Select(s => (s.Metadata.Name, s.Spec.Template.Spec)));

    private IEnumerable<V1NetworkPolicy> Policies => Objects.OfType<V1NetworkPolicy>();

    private V1Container Container(string workload) => Pods.Single(p => p.Name == workload).Pod.Containers.Single();

    [Fact]
    public void Every_pod_runs_as_a_fixed_non_root_user_with_the_runtime_default_seccomp_profile()
    {
        Assert.NotEmpty(Pods);
        foreach (var (name, pod) in Pods)
        {
            Assert.True(pod.SecurityContext.RunAsNonRoot, name);
            Assert.True(pod.SecurityContext.RunAsUser is > 0, $"{name}: runAsUser {pod.SecurityContext.RunAsUser}");
            Assert.Equal(pod.SecurityContext.RunAsUser, pod.SecurityContext.RunAsGroup);
            Assert.Equal("RuntimeDefault", pod.SecurityContext.SeccompProfile.Type);
            Assert.False(pod.AutomountServiceAccountToken, $"{name} mounts a service account token");
        }
        Assert.Equal(1654, Pods.Single(p => p.Name == "gateway").Pod.SecurityContext.RunAsUser); // the .NET images' app user
        Assert.Equal(70, Pods.Single(p => p.Name == "postgres").Pod.SecurityContext.RunAsUser); // the PostgreSQL image's own
    }

    [Fact]
    public void Every_container_drops_all_capabilities_cannot_escalate_and_writes_only_to_its_volumes_and_an_empty_tmp()
    {
        foreach (var (name, pod) in Pods)
        {
            foreach (var container in pod.Containers.Concat(pod.InitContainers ?? []))
            {
                var security = container.SecurityContext;
                Assert.True(security.RunAsNonRoot, $"{name}/{container.Name}");
                Assert.False(security.AllowPrivilegeEscalation, $"{name}/{container.Name}");
                Assert.False(security.Privileged ?? false, $"{name}/{container.Name}");
                Assert.True(security.ReadOnlyRootFilesystem, $"{name}/{container.Name}");
                Assert.Equal(["ALL"], security.Capabilities.Drop);
                Assert.Null(security.Capabilities.Add);
            }
            var main = pod.Containers.Single();
            var tmp = Assert.Single(main.VolumeMounts, m => m.MountPath == "/tmp");
            Assert.NotNull(Assert.Single(pod.Volumes, v => v.Name == tmp.Name).EmptyDir);
        }
        // PostgreSQL's socket directory is the one other place it writes outside its volume.
        Assert.Contains(Container("postgres").VolumeMounts, m => m.MountPath == "/var/run/postgresql");
    }

    [Fact]
    public void Network_policies_deny_everything_but_the_flows_of_the_app_model()
    {
        var deny = Assert.Single(Policies, p => p.Metadata.Name == "default-deny");
        Assert.Empty(deny.Spec.PodSelector.MatchLabels ?? new Dictionary<string, string>());
        Assert.Equal(["Ingress", "Egress"], deny.Spec.PolicyTypes);
        Assert.Null(deny.Spec.Ingress);
        Assert.Null(deny.Spec.Egress);
        foreach (var (name, _) in Pods)
        {
            Assert.Single(Policies, p => NameOf(p.Spec.PodSelector) == name);
        }

        // The gateway is the public door: its HTTP port from anywhere.
        Assert.Contains(Ingress("gateway"), r => r.FromProperty is null && Ports(r).SequenceEqual([8080]));
        // Services accept HTTP only from the gateway, and the paper engine also from the strategy runner (quote balances).
        foreach (var service in folder.Projects.Where(p => p is not "gateway" and not "persistence" and not "paper-engine"))
        {
            Assert.Equal(["gateway"], Sources(service, 8080));
        }
        Assert.Equal(["gateway", "strategy-runner"], Sources("paper-engine", 8080));

        // NATS: the client port from every service and the gateway; its monitoring port (8222) from no pod.
        Assert.Equal(folder.Projects.Order(StringComparer.Ordinal), Sources("nats", 4222));
        Assert.DoesNotContain(Ingress("nats"), r => Ports(r).Contains(8222));
        Assert.DoesNotContain(Policies.SelectMany(p => p.Spec.Egress ?? []), r => Ports(r).Contains(8222));
        // PostgreSQL only from the services that store (not the gateway).
        var databaseUsers = Sources("postgres", 5432);
        Assert.Contains("persistence", databaseUsers);
        Assert.DoesNotContain("gateway", databaseUsers);
        Assert.Equal(folder.Projects.Count - 1, databaseUsers.Count);

        // Egress: to the ports above, and only the ingestor (exchanges), accounts (Stripe) and alert (webhooks) beyond
        // the cluster, never into its private ranges.
        var external = Policies.Where(p => (p.Spec.Egress ?? []).Any(r => r.To?.Any(t => t.IpBlock is not null) == true))
            .Select(p => p.Metadata.Name).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["accounts", "alert", "ingestor"], external);
        var exchanges = Assert.Single(Policy("ingestor").Spec.Egress, r => r.To?.Any(t => t.IpBlock is not null) == true);
        Assert.Equal([443, 8443, 9443], Ports(exchanges));
        Assert.Equal("0.0.0.0/0", exchanges.To.Single().IpBlock.Cidr);
        Assert.All(PrivateRanges, range => Assert.Contains(range, exchanges.To.Single().IpBlock.Except));
        Assert.Contains(Policy("kline").Spec.Egress, r => Ports(r).SequenceEqual([4222]) && r.To.Single().PodSelector.MatchLabels["app.kubernetes.io/name"] == "nats");
    }

    [Fact]
    public void Each_service_connects_to_postgres_as_its_own_role_and_only_persistence_owns_the_schema()
    {
        var init = Assert.Single(Objects.OfType<V1ConfigMap>(), c => c.Metadata.Name == "postgres-init");
        var script = init.Data["create-roles.sh"];
        Assert.True(string.CompareOrdinal("create-databases.sql", "create-roles.sh") < 0, "roles are created after the database");
        var postgresEnv = Container("postgres").Env;
        foreach (var name in folder.Projects.Where(p => p != "gateway"))
        {
            var role = "qt_" + name.Replace('-', '_');
            var connection = Assert.Single(Container(name).Env, e => e.Name == "ConnectionStrings__quanttrader").Value;
            Assert.Contains($"Username={role};", connection);
            Assert.Matches(@"Password=\$\([A-Z_]+\);", connection);
            Assert.Contains($"--set=role={role} ", script);
            // The role's password reaches the PostgreSQL container from the same Secret key the service reads.
            var variable = Regex.Match(script, $@"--set=role={role} --set=password=""\$([A-Z_]+)""").Groups[1].Value;
            Assert.Equal($"db-password-{name}", Assert.Single(postgresEnv, e => e.Name == variable).ValueFrom.SecretKeyRef.Key);
        }
        Assert.Contains("ALTER DATABASE :\"db\" OWNER TO :\"role\";", OwnerBlock(script));
        Assert.Contains("--set=role=qt_persistence ", OwnerBlock(script));
        // The others: rows of the owner's tables, no DDL, no superuser.
        Assert.Equal(folder.Projects.Count - 2, Regex.Matches(script, "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES").Count);
        Assert.DoesNotContain("SUPERUSER", script);
        Assert.DoesNotContain("CREATE ON SCHEMA", script);
        Assert.DoesNotContain(Pods.SelectMany(p => p.Pod.Containers).SelectMany(c => c.Env ?? []), e => e.Value?.Contains("Username=postgres") == true);
    }

    [Fact]
    public void Each_service_connects_to_nats_as_its_own_user_and_the_config_names_passwords_only_as_secret_variables()
    {
        var config = Assert.Single(Objects.OfType<V1ConfigMap>(), c => c.Metadata.Name == "nats-config").Data["nats.conf"];
        var natsEnv = Container("nats").Env;
        var secrets = folder.SecretsEnv();
        foreach (var name in folder.Projects)
        {
            var env = Container(name).Env;
            var connection = Assert.Single(env, e => e.Name == "ConnectionStrings__nats").Value;
            var variable = Regex.Match(connection, $@"^nats://{name}:\$\(([A-Z_]+)\)@nats:4222$").Groups[1].Value;
            Assert.Equal($"nats-password-{name}", Assert.Single(env, e => e.Name == variable).ValueFrom.SecretKeyRef.Key);
            // The server reads the same Secret key through its own variable named in nats.conf.
            var serverVariable = Regex.Match(config, $@"user: ""{name}"", password: \$([A-Z_]+),").Groups[1].Value;
            Assert.Equal($"nats-password-{name}", Assert.Single(natsEnv, e => e.Name == serverVariable).ValueFrom.SecretKeyRef.Key);
            Assert.True(secrets[$"nats-password-{name}"].Length >= 32, $"{name}: generated NATS password");
        }
        Assert.Contains("authorization {", config);
        Assert.DoesNotContain("no_auth_user", config);
        Assert.DoesNotMatch(@"password: """, config);
        // Least privilege in the deployed config too: only the strategy runner may publish paper.submit.
        Assert.Equal(["strategy-runner"], UsersAllowed(config, "publish", "\"paper.submit\""));
        Assert.Equal(["risk"], UsersAllowed(config, "subscribe", "\"risk.check\""));
        Assert.Equal(["paper-engine"], UsersAllowed(config, "publish", "\"trading.>\""));
        Assert.Equal(["ingestor"], UsersAllowed(config, "publish", "\"market.raw.>\""));
    }

    [Fact]
    public async Task Images_are_pinned_to_a_version_and_latest_is_refused()
    {
        foreach (var (name, pod) in Pods)
        {
            foreach (var container in pod.Containers.Concat(pod.InitContainers ?? []))
            {
                Assert.Matches(@":[^/:]+$", container.Image);
                Assert.False(container.Image.EndsWith(":latest", StringComparison.Ordinal), $"{name}/{container.Name}: {container.Image}");
            }
        }
        // Without --tag: the AppHost's version.
        var unpinned = folder.Objects(folder.IngressDirectory).OfType<V1Deployment>().Single(d => d.Metadata.Name == "gateway").Spec.Template.Spec.Containers.Single();
        Assert.Matches(@"/gateway:\d+\.\d+\.\d+", unpinned.Image);

        var (exit, output) = await folder.TryPublishAsync("--tag", "latest");
        Assert.NotEqual(0, exit);
        Assert.Contains("--tag latest is refused", output);
    }

    [Fact]
    public void The_gateway_trusts_forwarded_headers_only_from_the_configured_proxy_networks()
    {
        // Not configured: no proxy is trusted.
        Assert.Equal("", Assert.Single(Container("gateway").Env, e => e.Name == "QuantTrader__Gateway__TrustedProxies").Value ?? "");
        var configured = folder.Objects(folder.IngressDirectory).OfType<V1Deployment>().Single(d => d.Metadata.Name == "gateway").Spec.Template.Spec.Containers.Single();
        Assert.Equal(PublishedFolder.TrustedProxyNetworks, Assert.Single(configured.Env, e => e.Name == "QuantTrader__Gateway__TrustedProxies").Value);
        Assert.All(folder.Projects.Where(p => p != "gateway"), p => Assert.DoesNotContain(Container(p).Env, e => e.Name == "QuantTrader__Gateway__TrustedProxies"));
    }

    [Fact]
    public void Secrets_env_is_readable_by_its_owner_only()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(folder.Directory, "secrets.env")));
    }

    private V1NetworkPolicy Policy(string workload) =>
        Policies.Single(p => NameOf(p.Spec.PodSelector) == workload);

    private IList<V1NetworkPolicyIngressRule> Ingress(string workload) => Policy(workload).Spec.Ingress ?? [];

    private List<string> Sources(string workload, int port) =>
        Ingress(workload).Where(r => Ports(r).Contains(port)).SelectMany(r => r.FromProperty ?? [])
            .Select(f => f.PodSelector.MatchLabels["app.kubernetes.io/name"]).Distinct().Order(StringComparer.Ordinal).ToList();

    private static List<int> Ports(V1NetworkPolicyIngressRule rule) => (rule.Ports ?? []).Select(p => int.Parse(p.Port.Value)).ToList();

    private static List<int> Ports(V1NetworkPolicyEgressRule rule) => (rule.Ports ?? []).Select(p => int.Parse(p.Port.Value)).ToList();

    private static string? NameOf(V1LabelSelector selector) =>
        selector.MatchLabels is { } labels && labels.TryGetValue("app.kubernetes.io/name", out var name) ? name : null;

    private static string OwnerBlock(string script)
    {
        var start = script.IndexOf("--set=role=qt_persistence ", StringComparison.Ordinal);
        return script[start..script.IndexOf("\nSQL\n", start, StringComparison.Ordinal)];
    }

    /// <summary>The users of nats.conf whose publish or subscribe allow-list contains <paramref name="quotedSubject"/>.</summary>
    private static List<string> UsersAllowed(string config, string direction, string quotedSubject) =>
        UserPattern().Matches(config)
            .Where(m => Regex.Match(m.Value, $@"{direction}: \{{ allow: \[([^\]]*)\]").Groups[1].Value.Split(", ").Contains(quotedSubject))
            .Select(m => m.Groups[1].Value).ToList();

    [GeneratedRegex(@"\{ user: ""([a-z-]+)"", password: [^\n]*\n(?:      [^\n]*\n)*    \} \}")]
    private static partial Regex UserPattern();
}
