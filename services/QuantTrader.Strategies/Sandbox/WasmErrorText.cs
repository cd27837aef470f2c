namespace QuantTrader.Strategies.Sandbox;

internal static class WasmErrorText
{
    /// <summary>
    /// Wasmtime messages read "error while executing at wasm backtrace: … Caused by: &lt;cause&gt;"; users need
    /// the cause (e.g. "wasm trap: wasm `unreachable` instruction executed"), not the frame offsets.
    /// </summary>
    public static string Cause(string message)
    {
        const string marker = "Caused by:";
        var at = message.LastIndexOf(marker, StringComparison.Ordinal);
        var cause = at >= 0 ? message[(at + marker.Length)..] : message;
        var lines = cause.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? message.Trim() : string.Join(" ", lines);
    }
}
