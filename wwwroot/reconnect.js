// The reconnect banner's buttons (App.razor). Blazor shows and hides the banner itself through its classes.
(() => {
    const on = (id, handler) => document.getElementById(id)?.addEventListener("click", handler);
    on("reconnect-reload", () => location.reload());
    on("reconnect-retry", async () => {
        try {
            // true: back; false: the server answered but no longer knows this page's session (it restarted).
            if (!await Blazor.reconnect()) location.reload();
        } catch {
            // Still unreachable: the banner stays on "cannot be reached".
        }
    });
    on("reconnect-resume", async () => {
        if (!await Blazor.resumeCircuit()) location.reload();
    });
})();
