using Aspire.Hosting.ApplicationModel;
using k8s.Models;

namespace QuantTrader.AppHost.Kubernetes;

/// <summary>
/// What every pod and container runs with: a fixed non-root user, no privilege escalation, no Linux capabilities, the
/// runtime's default seccomp profile and a read-only root filesystem, with emptyDirs where a process must write
/// (/tmp, and the directories the model names with <see cref="WritableDirectoryAnnotation"/>).
/// </summary>
internal static class Hardening
{
    public static V1PodSecurityContext Pod(long userId) => new()
    {
        RunAsNonRoot = true,
        RunAsUser = userId,
        RunAsGroup = userId,
        // Volumes (the PVCs) become writable by the pod's group.
        FsGroup = userId,
        SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
    };

    public static V1SecurityContext Container() => new()
    {
        RunAsNonRoot = true,
        Privileged = false,
        AllowPrivilegeEscalation = false,
        ReadOnlyRootFilesystem = true,
        Capabilities = new V1Capabilities { Drop = ["ALL"] },
        SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
    };

    public static (List<V1Volume> Volumes, List<V1VolumeMount> Mounts) WritableDirectories(IResource resource)
    {
        var volumes = new List<V1Volume>();
        var mounts = new List<V1VolumeMount>();
        var paths = new[] { "/tmp" }.Concat(resource.Annotations.OfType<WritableDirectoryAnnotation>().Select(a => a.Path)).Distinct();
        foreach (var (path, index) in paths.Select((p, i) => (p, i)))
        {
            var name = index == 0 ? "tmp" : $"writable-{index}";
            volumes.Add(new V1Volume { Name = name, EmptyDir = new V1EmptyDirVolumeSource() });
            mounts.Add(new V1VolumeMount { Name = name, MountPath = path });
        }
        return (volumes, mounts);
    }
}
