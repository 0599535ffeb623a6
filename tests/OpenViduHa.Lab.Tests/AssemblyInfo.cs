// The lab is Linux only (namespaces, OpenSSH, /proc) and needs root.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
