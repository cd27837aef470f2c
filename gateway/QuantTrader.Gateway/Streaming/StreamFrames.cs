using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace QuantTrader.Gateway.Streaming;

/// <summary>The server's frames (docs/streaming.md), each one JSON object written once and sent as is.</summary>
public static class StreamFrames
{
    public static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A data message: <paramref name="data"/> is already JSON (written by the contracts' serializers).</summary>
    public static byte[] Data(string type, string channel, ulong? seq, ReadOnlySpan<byte> data)
    {
        var buffer = new ArrayBufferWriter<byte>(data.Length + 96);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", type);
            writer.WriteString("channel", channel);
            if (seq is { } s)
            {
                writer.WriteNumber("seq", s);
            }
            writer.WritePropertyName("data");
            writer.WriteRawValue(data, skipInputValidation: true);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Error(string code, string message, string? channel = null, JsonElement? id = null) => Write(w =>
    {
        w.WriteString("type", "error");
        w.WriteString("code", code);
        w.WriteString("message", message);
        if (channel is not null)
        {
            w.WriteString("channel", channel);
        }
        Id(w, id);
    });

    public static byte[] Subscribed(string channel, ulong? seq, JsonElement? id) => Write(w =>
    {
        w.WriteString("type", "subscribed");
        w.WriteString("channel", channel);
        if (seq is { } s)
        {
            w.WriteNumber("seq", s);
        }
        Id(w, id);
    });

    public static byte[] Resync(string channel, ulong seq, string reason, JsonElement? id) => Write(w =>
    {
        w.WriteString("type", "resync");
        w.WriteString("channel", channel);
        w.WriteNumber("seq", seq);
        w.WriteString("reason", reason);
        Id(w, id);
    });

    public static byte[] Unsubscribed(string channel, JsonElement? id) => Write(w =>
    {
        w.WriteString("type", "unsubscribed");
        w.WriteString("channel", channel);
        Id(w, id);
    });

    public static byte[] Heartbeat(DateTimeOffset now) => Write(w =>
    {
        w.WriteString("type", "heartbeat");
        w.WriteString("time", Time(now));
    });

    public static byte[] Pong(DateTimeOffset now, JsonElement? id) => Write(w =>
    {
        w.WriteString("type", "pong");
        Id(w, id);
        w.WriteString("time", Time(now));
    });

    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static void Id(Utf8JsonWriter writer, JsonElement? id)
    {
        if (id is { } value)
        {
            writer.WritePropertyName("id");
            value.WriteTo(writer);
        }
    }
}
