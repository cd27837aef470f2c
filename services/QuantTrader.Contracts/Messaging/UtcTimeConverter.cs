using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace QuantTrader.Contracts.Messaging;

/// <summary>
/// Times leave QuantTrader as ISO-8601 UTC (<c>2024-03-01T00:01:00Z</c>, API.md). Reading accepts any ISO-8601
/// offset and converts to UTC.
/// </summary>
public sealed class UtcTimeConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => reader.GetDateTimeOffset().ToUniversalTime();

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
        => writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
}
