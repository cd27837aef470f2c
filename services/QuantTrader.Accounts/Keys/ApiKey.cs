using System.Security.Cryptography;
using System.Text;

namespace QuantTrader.Accounts.Keys;

/// <summary>
/// API keys look like <c>qt_</c> + 40 random base62 characters. Only a SHA-256 hash is stored; the first
/// characters (the prefix) stay readable so a user can tell keys apart in a list.
/// </summary>
public static class ApiKey
{
    public const string Scheme = "qt_";
    private const int RandomLength = 40;
    private const int PrefixLength = 10;
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string Generate() => Scheme + RandomNumberGenerator.GetString(Alphabet, RandomLength);

    public static string PrefixOf(string key) => key[..Math.Min(PrefixLength, key.Length)];

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public static bool LooksValid(string? key) =>
        key is not null && key.Length == Scheme.Length + RandomLength && key.StartsWith(Scheme, StringComparison.Ordinal);
}
