using System.Security.Cryptography;
using System.Text;

namespace QuantTrader.AppHost.Infrastructure;

/// <summary>
/// Files that hold secrets (passwords, keys, a config with passwords): created owner-only (mode 600) in the same call
/// that creates them, so no other user of the machine can open one in the moment between writing and a chmod.
/// The umask can only take bits away, so 600 at creation is 600 whatever the umask.
/// </summary>
public static class SecretFiles
{
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>A new file, open for writing, mode 600 from its first byte; an existing file is an error.</summary>
    public static FileStream CreateNew(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }
        return new FileStream(path, options);
    }

    /// <summary>
    /// Writes <paramref name="contents"/> to <paramref name="path"/>, replacing it: through a new owner-only file moved
    /// over the old one, so a file that once had wider rights never keeps them and a reader never sees half a file.
    /// </summary>
    public static void Write(string path, string contents)
    {
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = CreateNew(temporary))
            {
                stream.Write(Encoding.UTF8.GetBytes(contents));
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>The random secret kept in <paramref name="path"/>: generated (hex, <paramref name="bytes"/> random bytes) on first use.</summary>
    public static string ReadOrGenerate(string path, int bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (!File.Exists(path))
        {
            try
            {
                using var stream = CreateNew(path);
                stream.Write(Encoding.ASCII.GetBytes(Convert.ToHexString(RandomNumberGenerator.GetBytes(bytes)).ToLowerInvariant()));
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it first: use theirs.
            }
        }
        return File.ReadAllText(path).Trim();
    }
}
