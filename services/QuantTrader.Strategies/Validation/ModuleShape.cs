namespace QuantTrader.Strategies.Validation;

/// <summary>
/// Bounds on the shape of a module's code, checked on the binary before it is compiled. Compile time is not
/// linear in size: Cranelift took 296 s for a 200 KB function of 40,000 nested <c>if</c>s and ~16 µs per byte of
/// branchy straight-line code on the reference machine, and a compile cannot be interrupted. These bounds keep
/// the worst compile to a few seconds of one core; the AssemblyScript examples use 31 functions, 10 KB of code
/// and a nesting depth under 20.
/// </summary>
public sealed record ModuleShapeLimits
{
    public static ModuleShapeLimits Default { get; } = new();

    /// <summary>Functions defined by the module (imports not counted).</summary>
    public int MaxFunctions { get; init; } = 1_000;

    /// <summary>Bytes of the code section: every function body together.</summary>
    public int MaxCodeBytes { get; init; } = 256 * 1024;

    /// <summary>Deepest nesting of <c>block</c>, <c>loop</c> and <c>if</c> in one function.</summary>
    public int MaxControlDepth { get; init; } = 128;
}

/// <summary>
/// Reads the sections of a WebAssembly binary and walks every function body's instructions (MVP, sign extension,
/// saturating conversions, bulk memory, reference types, multi-value and SIMD; the engine refuses the other
/// proposals) to check <see cref="ModuleShapeLimits"/>. It does not validate: a malformed module gets past this
/// only to be refused by Wasmtime's validator, which runs next.
/// </summary>
public static class ModuleShape
{
    private const byte FunctionSection = 3;
    private const byte CodeSection = 10;

    /// <summary>Sentences naming each limit the module exceeds; empty when within them (or when too malformed to read).</summary>
    public static IReadOnlyList<string> Check(ReadOnlySpan<byte> wasm, ModuleShapeLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        try
        {
            return CheckSections(new Reader(wasm), limits);
        }
        catch (FormatException)
        {
            // Truncated or unknown encoding: Wasmtime's validator gives the precise reason.
            return [];
        }
    }

    private static List<string> CheckSections(Reader reader, ModuleShapeLimits limits)
    {
        var errors = new List<string>();
        reader.Skip(8); // magic and version
        while (!reader.AtEnd)
        {
            var id = reader.Byte();
            var size = (int)reader.U32();
            var section = reader.Slice(size);
            if (id == FunctionSection)
            {
                var functions = section.U32();
                if (functions > (uint)limits.MaxFunctions)
                {
                    errors.Add($"The module defines {functions} functions; the limit is {limits.MaxFunctions}.");
                }
            }
            else if (id == CodeSection)
            {
                if (size > limits.MaxCodeBytes)
                {
                    errors.Add($"The module's code is {size} bytes; the limit is {limits.MaxCodeBytes} bytes.");
                    continue;
                }
                var bodies = section.U32();
                for (var i = 0u; i < bodies && errors.Count == 0; i++)
                {
                    var body = section.Slice((int)section.U32());
                    var depth = DeepestNesting(body);
                    if (depth > limits.MaxControlDepth)
                    {
                        errors.Add($"Function {i} nests blocks, loops and ifs {depth} deep; the limit is {limits.MaxControlDepth}.");
                    }
                }
            }
        }
        return errors;
    }

    private static int DeepestNesting(Reader body)
    {
        var groups = body.U32();
        for (var i = 0u; i < groups; i++)
        {
            body.U32(); // count
            body.ValueType();
        }
        int depth = 0, deepest = 0;
        while (!body.AtEnd)
        {
            var opcode = body.Byte();
            switch (opcode)
            {
                case 0x02 or 0x03 or 0x04: // block, loop, if
                    body.S64();
                    deepest = Math.Max(deepest, ++depth);
                    break;
                case 0x0B: // end (the last one closes the function body itself)
                    depth--;
                    break;
                case 0x0C or 0x0D or 0x10 or 0x12 or 0xD2 or (>= 0x20 and <= 0x26) or 0x3F or 0x40: // one index
                    body.U32();
                    break;
                case 0x0E: // br_table
                    var targets = body.U32();
                    for (var t = 0u; t <= targets; t++)
                    {
                        body.U32();
                    }
                    break;
                case 0x11 or 0x13: // call_indirect, return_call_indirect
                    body.U32();
                    body.U32();
                    break;
                case 0x1C: // select t*
                    var types = body.U32();
                    for (var t = 0u; t < types; t++)
                    {
                        body.ValueType();
                    }
                    break;
                case >= 0x28 and <= 0x3E: // loads and stores
                    body.MemArg();
                    break;
                case 0x41:
                    body.S64();
                    break;
                case 0x42:
                    body.S64();
                    break;
                case 0x43:
                    body.Skip(4);
                    break;
                case 0x44:
                    body.Skip(8);
                    break;
                case 0xD0: // ref.null heaptype
                    body.S64();
                    break;
                case 0xFC:
                    Misc(ref body, body.U32());
                    break;
                case 0xFD:
                    Simd(ref body, body.U32());
                    break;
                case 0x00 or 0x01 or 0x05 or 0x0F or 0x1A or 0x1B or (>= 0x45 and <= 0xC4) or 0xD1:
                    break;
                default:
                    throw new FormatException($"opcode 0x{opcode:x2}");
            }
        }
        return deepest;
    }

    private static void Misc(ref Reader body, uint op)
    {
        switch (op)
        {
            case <= 7: // saturating truncations
                break;
            case 8 or 10 or 12 or 14: // memory.init, memory.copy, table.init, table.copy
                body.U32();
                body.U32();
                break;
            case 9 or 11 or 13 or 15 or 16 or 17: // data.drop, memory.fill, elem.drop, table.grow/size/fill
                body.U32();
                break;
            default:
                throw new FormatException($"opcode 0xfc {op}");
        }
    }

    private static void Simd(ref Reader body, uint op)
    {
        switch (op)
        {
            case <= 11 or 92 or 93: // loads, store, load-zero
                body.MemArg();
                break;
            case 12 or 13: // v128.const, i8x16.shuffle
                body.Skip(16);
                break;
            case >= 21 and <= 34: // extract/replace lane
                body.Skip(1);
                break;
            case >= 84 and <= 91: // load/store lane
                body.MemArg();
                body.Skip(1);
                break;
            case <= 255:
                break;
            default:
                throw new FormatException($"opcode 0xfd {op}");
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _at;

        public readonly bool AtEnd => _at >= _bytes.Length;

        public byte Byte() => _at < _bytes.Length ? _bytes[_at++] : throw new FormatException("truncated");

        public void Skip(int count)
        {
            if (count < 0 || _at + count > _bytes.Length)
            {
                throw new FormatException("truncated");
            }
            _at += count;
        }

        public Reader Slice(int length)
        {
            var start = _at;
            Skip(length);
            return new Reader(_bytes.Slice(start, length));
        }

        public uint U32()
        {
            uint result = 0;
            for (var shift = 0; shift < 35; shift += 7)
            {
                var b = Byte();
                result |= (uint)(b & 0x7f) << shift;
                if (b < 0x80)
                {
                    return result;
                }
            }
            throw new FormatException("LEB128 too long");
        }

        /// <summary>Any signed LEB128 up to 64 bits (block types, constants); only its length matters here.</summary>
        public void S64()
        {
            for (var i = 0; i < 10; i++)
            {
                if (Byte() < 0x80)
                {
                    return;
                }
            }
            throw new FormatException("LEB128 too long");
        }

        /// <summary>A value type: one byte without the GC proposal (which the engine refuses).</summary>
        public void ValueType() => Byte();

        public void MemArg()
        {
            var align = U32();
            if ((align & 0x40) != 0)
            {
                U32(); // memory index (multi-memory)
            }
            S64(); // offset
        }
    }
}
