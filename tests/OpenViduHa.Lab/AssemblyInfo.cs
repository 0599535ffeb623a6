// Namespaces, mounts, /proc and OpenSSH: Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// The lab's own tests end a supervisor the way a dying test process would.
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("OpenViduHa.Lab.Tests")]
