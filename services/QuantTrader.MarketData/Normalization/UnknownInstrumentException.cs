namespace QuantTrader.MarketData.Normalization;

/// <summary>Thrown by the non-Try lookups of <see cref="SymbolNormalizer"/>: the message names what was unknown.</summary>
public sealed class UnknownInstrumentException : Exception
{
    public UnknownInstrumentException()
    {
    }

    public UnknownInstrumentException(string message)
        : base(message)
    {
    }

    public UnknownInstrumentException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
