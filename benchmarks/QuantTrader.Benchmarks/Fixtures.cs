using System.Text;

namespace QuantTrader.Benchmarks;

/// <summary>Real exchange frames and the example strategy, embedded so every generated benchmark build has them.</summary>
internal static class Fixtures
{
    /// <summary>The non-empty lines of an embedded <c>Fixtures/*.jsonl</c> file, as the UTF-8 bytes a WebSocket delivers.</summary>
    public static byte[][] Frames(string fileName, int expectedCount)
    {
        var text = Encoding.UTF8.GetString(Resource($"Fixtures.{fileName}"));
        var frames = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(Encoding.UTF8.GetBytes)
            .ToArray();
        if (frames.Length != expectedCount)
        {
            throw new InvalidOperationException($"{fileName} has {frames.Length} frames, the benchmark expects {expectedCount}.");
        }

        return frames;
    }

    /// <summary><c>strategies/sma-crossover/build/sma-crossover.wasm</c>, the checked-in AssemblyScript example.</summary>
    public static byte[] SmaCrossoverWasm => Resource("Strategies.sma-crossover.wasm");

    private static byte[] Resource(string name)
    {
        using var stream = typeof(Fixtures).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Embedded resource {name} is missing.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
