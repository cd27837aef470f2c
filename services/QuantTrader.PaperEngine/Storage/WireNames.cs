using System.Text.Json;
using QuantTrader.Contracts.Trading;

namespace QuantTrader.PaperEngine.Storage;

/// <summary>Enums as the API spells them (<c>stop_market</c>, <c>partially_filled</c>), for columns and query parameters.</summary>
public static class WireNames
{
    public static string Of<T>(T value) where T : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    public static bool TryParse<T>(string? text, out T value) where T : struct, Enum
    {
        foreach (var candidate in Enum.GetValues<T>())
        {
            if (string.Equals(Of(candidate), text, StringComparison.OrdinalIgnoreCase))
            {
                value = candidate;
                return true;
            }
        }

        value = default;
        return false;
    }

    public static T Parse<T>(string text) where T : struct, Enum =>
        TryParse<T>(text, out var value) ? value : throw new FormatException($"'{text}' is not a {typeof(T).Name}.");

    public static bool IsOpen(OrderStatus status) => status is OrderStatus.New or OrderStatus.PartiallyFilled;

    public static string Choices<T>() where T : struct, Enum => string.Join(", ", Enum.GetValues<T>().Select(Of));
}
