namespace QuantTrader.Ingestor.Imports;

/// <summary>
/// Imports in progress per user (<c>PlanLimits.ConcurrentImports</c>): an import holds its slot from the first byte of
/// its upload until it completed or failed. In memory: one ingestor runs the imports, and a restart ends (fails) every
/// import that was in progress, so no slot outlives its process.
/// </summary>
public sealed class ImportSlots
{
    private readonly Dictionary<Guid, int> _inProgress = [];

    public bool TryTake(Guid userId, int limit)
    {
        lock (_inProgress)
        {
            var held = _inProgress.GetValueOrDefault(userId);
            if (held >= limit)
            {
                return false;
            }

            _inProgress[userId] = held + 1;
            return true;
        }
    }

    public void Release(Guid userId)
    {
        lock (_inProgress)
        {
            if (_inProgress.TryGetValue(userId, out var held))
            {
                if (held <= 1)
                {
                    _inProgress.Remove(userId);
                }
                else
                {
                    _inProgress[userId] = held - 1;
                }
            }
        }
    }
}
