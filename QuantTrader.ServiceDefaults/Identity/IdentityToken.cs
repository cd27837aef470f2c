using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using QuantTrader.Contracts.Accounts;

namespace QuantTrader.ServiceDefaults.Identity;

/// <summary>
/// The caller's identity as the gateway hands it to services: <c>base64url(json).base64url(HMAC-SHA256)</c> in the
/// <see cref="HeaderName"/> header, valid for <see cref="Lifetime"/>. Only the gateway and the services know the
/// key, so a client cannot forge it, and a captured token is useless a minute later.
/// </summary>
public sealed class IdentityToken
{
    public const string HeaderName = "X-QuantTrader-Identity";
    public const string SigningKeyConfigKey = "QuantTrader:Identity:SigningKey";
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);

    private readonly byte[] _key;
    private readonly TimeProvider _time;

    public IdentityToken(string signingKey, TimeProvider? time = null)
    {
        if (string.IsNullOrWhiteSpace(signingKey) || signingKey.Length < 32)
        {
            throw new InvalidOperationException($"{SigningKeyConfigKey} must be set to a secret of at least 32 characters (the AppHost provides it).");
        }
        _key = Encoding.UTF8.GetBytes(signingKey);
        _time = time ?? TimeProvider.System;
    }

    public string Issue(Caller caller)
    {
        var payload = new TokenPayload(caller.UserId, caller.Plan, caller.Limits, _time.GetUtcNow().Add(Lifetime).ToUnixTimeSeconds(), caller.Operator);
        var body = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(payload, IdentityJson.Default.TokenPayload));
        return $"{body}.{Base64Url.EncodeToString(HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(body)))}";
    }

    public bool TryValidate(string? token, out Caller? caller)
    {
        caller = null;
        if (string.IsNullOrEmpty(token))
        {
            return false;
        }
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0)
        {
            return false;
        }
        var body = token[..dot];
        byte[] signature;
        TokenPayload? payload;
        try
        {
            signature = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
            var expected = HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(body));
            if (!CryptographicOperations.FixedTimeEquals(signature, expected))
            {
                return false;
            }
            payload = JsonSerializer.Deserialize(Base64Url.DecodeFromChars(body), IdentityJson.Default.TokenPayload);
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return false;
        }
        if (payload is null || payload.Expires < _time.GetUtcNow().ToUnixTimeSeconds())
        {
            return false;
        }
        caller = new Caller(payload.UserId, payload.Plan, payload.Limits, payload.Operator);
        return true;
    }
}

internal sealed record TokenPayload(Guid UserId, string Plan, PlanLimits Limits, long Expires, bool Operator = false);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(TokenPayload))]
internal sealed partial class IdentityJson : JsonSerializerContext;
