using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Tests.Ssh;

public class MallocArenasTests
{
    [Fact]
    public void Limit_OnGlibcLinux_TheCapIsTaken()
    {
        // Arrange: this machine is Debian (glibc), where the panel runs in its image too.
        Assert.True(OperatingSystem.IsLinux());
        Assert.True(File.Exists("/lib/x86_64-linux-gnu/libc.so.6") || File.Exists("/lib/aarch64-linux-gnu/libc.so.6"));

        // Act
        var taken = MallocArenas.Limit();

        // Assert: glibc's mallopt was found and took the value (a missing libc or entry point answers false). What the cap
        // does to memory is measured by the status benchmark, not here.
        Assert.True(taken);
    }
}
