using Aspire.Hosting.ApplicationModel;

namespace QuantTrader.AppHost.Kubernetes;

/// <summary>
/// A configuration file a container reads at <see cref="Directory"/>/<see cref="FileName"/>. Kept in the app model
/// so every target gets the same file: a local container run copies it in, Kubernetes mounts it from a ConfigMap.
/// </summary>
public sealed record ConfigFileAnnotation(string Directory, string FileName, string Contents) : IResourceAnnotation
{
    public string Path => $"{Directory.TrimEnd('/')}/{FileName}";
}

public static class ConfigFileExtensions
{
    /// <summary>Gives the container <paramref name="contents"/> as <c>{directory}/{fileName}</c>.</summary>
    public static IResourceBuilder<T> WithConfigFile<T>(this IResourceBuilder<T> builder, string directory, string fileName, string contents)
        where T : ContainerResource
    {
        builder.WithAnnotation(new ConfigFileAnnotation(directory, fileName, contents));
        return builder.WithContainerFiles(directory, [new ContainerFile { Name = fileName, Contents = contents }]);
    }
}
