using System.Runtime.InteropServices;
using QuantTrader.AppHost.Infrastructure;

namespace QuantTrader.Kubernetes.Tests;

/// <summary>
/// The AppHost's secret files (passwords, the signing key, nats.conf, secrets.env) are owner-only from the moment they
/// exist: checked under umask 000, where a file created with default rights would be readable by everyone, and before
/// the first byte is written.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SecretFileTests : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"qt-secret-{Guid.NewGuid():N}");
    private readonly uint _umask;

    public SecretFileTests()
    {
        Directory.CreateDirectory(_directory);
        _umask = Umask(0); // nothing masked: only the creation mode keeps others out
    }

    [Fact]
    public void A_new_secret_file_is_owner_only_before_its_first_byte_is_written()
    {
        var path = Path.Combine(_directory, "new.secret");
        using var stream = SecretFiles.CreateNew(path);

        Assert.Equal(0, new FileInfo(path).Length);
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(path));
    }

    [Fact]
    public void A_generated_secret_is_owner_only_and_kept()
    {
        var path = Path.Combine(_directory, "nats-users", "kline.password");

        var first = SecretFiles.ReadOrGenerate(path, 16);

        Assert.Equal(OwnerOnly, File.GetUnixFileMode(path));
        Assert.Equal(32, first.Length);
        Assert.Equal(first, SecretFiles.ReadOrGenerate(path, 16));
    }

    [Fact]
    public void Rewriting_a_file_that_was_readable_by_others_leaves_it_owner_only()
    {
        var path = Path.Combine(_directory, "nats.conf");
        File.WriteAllText(path, "old");
        File.SetUnixFileMode(path, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        SecretFiles.Write(path, "users = []");

        Assert.Equal(OwnerOnly, File.GetUnixFileMode(path));
        Assert.Equal("users = []", File.ReadAllText(path));
        Assert.Equal(["nats.conf"], Directory.GetFiles(_directory).Select(Path.GetFileName));
    }

    public void Dispose()
    {
        Umask(_umask);
        Directory.Delete(_directory, recursive: true);
    }

    [DllImport("libc", EntryPoint = "umask")]
    private static extern uint Umask(uint mask);
}
