namespace QuantTrader.Strategies; internal static class Placeholder {}
