using System.Runtime.InteropServices;

namespace OpenViduHa.Core.Ssh;

/// <summary>
/// Caps glibc's malloc arenas for this process (<c>mallopt(M_ARENA_MAX, 2)</c>, what <c>MALLOC_ARENA_MAX=2</c> does).
/// glibc gives threads up to 8 arenas per core; SSH.NET keeps a thread per open connection, so with hundreds of nodes
/// watched every arena is in use and the native memory (OpenSSL's, the runtime's) is spread over all of them, each
/// keeping its own free space. Measured in the status benchmark at 1,000 kept connections, resident after a full
/// collection (bench/README.md): ~515 MB with 16 arenas, 485 MB with this cap taken at start (6 arenas: those made
/// before it stay), 454 MB with <c>MALLOC_ARENA_MAX=2</c> in the environment from the start, as the image sets it.
/// Elsewhere than glibc (musl, other systems) it does nothing.
/// </summary>
public static class MallocArenas
{
    private const int ArenaMaxParameter = -8; // M_ARENA_MAX in glibc's malloc.h

    /// <summary>The cap this process asks for (and the image sets in <c>MALLOC_ARENA_MAX</c>).</summary>
    public const int Max = 2;

    /// <summary>True when glibc took the cap; false where there is no glibc <c>mallopt</c> or it refused.</summary>
    public static bool Limit()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return Mallopt(ArenaMaxParameter, Max) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// Gives the free memory of every arena back to the system (<c>malloc_trim(0)</c>), after a full collection
    /// (<see cref="Jobs.MemoryTrim"/>). True when glibc gave some back; false when it had none, or where there is no glibc.
    /// </summary>
    public static bool Trim()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return MallocTrim(0) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    // DllImport, not LibraryImport: a blittable call needs no generated marshalling, and no unsafe code in this assembly.
    [DllImport("libc", EntryPoint = "mallopt", ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Mallopt(int parameter, int value);

    [DllImport("libc", EntryPoint = "malloc_trim", ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int MallocTrim(nuint pad);
}
