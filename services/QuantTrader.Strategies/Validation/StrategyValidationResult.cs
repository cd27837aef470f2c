namespace QuantTrader.Strategies.Validation;

/// <summary>Whether an uploaded module satisfies ABI v1; <see cref="Errors"/> are user-facing sentences.</summary>
public sealed record StrategyValidationResult(IReadOnlyList<string> Errors)
{
    public bool IsValid => Errors.Count == 0;

    public static StrategyValidationResult Valid { get; } = new(Array.Empty<string>());
}

/// <summary>Thrown by <see cref="Sandbox.StrategyModule.Load(byte[], Sandbox.StrategyEngine?, int)"/> for a module that fails validation.</summary>
public sealed class StrategyValidationException : Exception
{
    public StrategyValidationException(IReadOnlyList<string> errors)
        : base("Strategy module rejected: " + string.Join(" ", errors))
    {
        Errors = errors;
    }

    public StrategyValidationException()
        : this(Array.Empty<string>())
    {
    }

    public StrategyValidationException(string message)
        : this([message])
    {
    }

    public StrategyValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [message];
    }

    public IReadOnlyList<string> Errors { get; }
}
