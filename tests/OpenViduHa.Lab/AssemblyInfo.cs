// Namespaces, mounts, /proc and OpenSSH: Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
