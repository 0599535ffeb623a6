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

        // Assert: mallopt answered 1 (glibc answers 0 to a parameter it does not know).
        Assert.True(taken);
    }
}
