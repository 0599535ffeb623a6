# The panel as a container image. Not built by the tests (no Docker engine runs on the CI machine);
# docker-compose.yml is checked with `docker-compose config`.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/OpenViduHa.Web/OpenViduHa.Web.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
# ssh-keygen for operators who inspect keys from inside the container; nothing else is needed at run time.
RUN apt-get update && apt-get install -y --no-install-recommends openssh-client && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
# The data directory belongs to the image's unprivileged user (app, $APP_UID in Microsoft's images), which the panel
# runs as: a new volume takes this owner. The program itself (/app) stays root's and read-only to the panel.
RUN mkdir -p /data && chown "$APP_UID:$APP_UID" /data && chmod 0700 /data
USER $APP_UID
# MALLOC_ARENA_MAX: the panel caps glibc's arenas itself at start (MallocArenas); set here too, so the runtime's
# own first threads share them as well.
ENV ASPNETCORE_URLS=http://0.0.0.0:8080 \
    Storage__DataDirectory=/data \
    MALLOC_ARENA_MAX=2
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q '200 OK' <&3"]
ENTRYPOINT ["dotnet", "OpenViduHa.Web.dll"]
