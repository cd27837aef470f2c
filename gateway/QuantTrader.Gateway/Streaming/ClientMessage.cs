using System.Text.Json;

namespace QuantTrader.Gateway.Streaming;

/// <summary>A client's frame (docs/streaming.md): <c>auth</c>, <c>subscribe</c>, <c>unsubscribe</c> or <c>ping</c>.</summary>
/// <param name="Problem">Why the server cannot act on it (answered with an error; the connection stays), or null.</param>
public sealed record ClientMessage(string Type, JsonElement? Id, string? ApiKey, IReadOnlyList<string> Channels, IReadOnlyDictionary<string, ulong> Since,
    string? Problem = null)
{
    /// <summary>The message (with a <see cref="Problem"/> when it cannot be acted on); throws <see cref="JsonException"/> when the frame is not a JSON object at all.</summary>
    public static ClientMessage Parse(ReadOnlyMemory<byte> frame, int maxChannels)
    {
        using var document = JsonDocument.Parse(frame, new JsonDocumentOptions { MaxDepth = 8 });
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("A frame must be one JSON object.");
        }

        JsonElement? id = root.TryGetProperty("id", out var idValue) && idValue.ValueKind is JsonValueKind.String or JsonValueKind.Number
            ? idValue.Clone()
            : null;
        if (!root.TryGetProperty("type", out var typeValue) || typeValue.ValueKind != JsonValueKind.String)
        {
            return Invalid(id, "Every message needs a string 'type': auth, subscribe, unsubscribe or ping.");
        }
        var type = typeValue.GetString()!;

        string? apiKey = root.TryGetProperty("apiKey", out var key) && key.ValueKind == JsonValueKind.String ? key.GetString() : null;

        var channels = new List<string>();
        if (root.TryGetProperty("channels", out var list))
        {
            if (list.ValueKind != JsonValueKind.Array || list.EnumerateArray().Any(c => c.ValueKind != JsonValueKind.String))
            {
                return Invalid(id, "'channels' must be an array of channel names.");
            }
            if (list.GetArrayLength() > maxChannels)
            {
                return Invalid(id, $"At most {maxChannels} channels in one message.");
            }
            channels.AddRange(list.EnumerateArray().Select(c => c.GetString()!).Distinct(StringComparer.Ordinal));
        }

        var since = new Dictionary<string, ulong>(StringComparer.Ordinal);
        if (root.TryGetProperty("since", out var sinceValue) && sinceValue.ValueKind != JsonValueKind.Null)
        {
            if (sinceValue.ValueKind != JsonValueKind.Object)
            {
                return Invalid(id, "'since' must be an object of channel → last seq received, e.g. {\"fills\": 1234}.");
            }
            foreach (var entry in sinceValue.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetUInt64(out var seq))
                {
                    return Invalid(id, $"'since.{entry.Name}' must be a whole number at least 0 (a seq this channel sent).");
                }
                since[entry.Name] = seq;
            }
        }

        return new ClientMessage(type, id, apiKey, channels, since);
    }

    private static ClientMessage Invalid(JsonElement? id, string problem) => new("", id, null, [], new Dictionary<string, ulong>(), problem);
}
