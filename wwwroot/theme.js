// Light or dark: the operator's choice (stored in this browser) or the system's. MainLayout asks and sets through
// panelTheme; the line below applies it before the first paint, so the panel's own colours never flash the wrong scheme.
window.panelTheme = {
    get: () => localStorage.getItem("ovha-theme"),
    set: choice => choice ? localStorage.setItem("ovha-theme", choice) : localStorage.removeItem("ovha-theme"),
    apply: dark => {
        document.documentElement.dataset.theme = dark ? "dark" : "light";
        document.documentElement.style.colorScheme = dark ? "dark" : "light";
    },
};
(() => {
    const choice = localStorage.getItem("ovha-theme");
    panelTheme.apply(choice ? choice === "dark" : matchMedia("(prefers-color-scheme: dark)").matches);
})();
