// The tests run real bash, NGINX, HAProxy and openssl: Linux (Debian) only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
