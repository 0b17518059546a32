// Boot, the hash router and the signed-in shell.

import "./styles.css";
import { api, ApiError, UNAUTHORIZED_EVENT, type Profile } from "./api";
import { renderLogin } from "./auth";
import { renderBotForm } from "./botform";
import { renderGallery } from "./bots";
import { renderChat } from "./chat";
import { h } from "./dom";
import { setSidebar } from "./layout";
import { renderProfile } from "./profile";
import { renderDashboard } from "./dashboard";
import { renderSearch } from "./search";
import { createSidebar, type SidebarHandle } from "./sidebar";
import { socket } from "./socket";
import { store } from "./state";
import { applyTheme } from "./theme";

const root = document.getElementById("app") as HTMLElement;

let shell: HTMLElement | null = null;
let mainEl: HTMLElement | null = null;
let sidebar: SidebarHandle | null = null;
let cleanup: (() => void) | null = null;
/** Where to go after logging in (the page that sent us to the login). */
let afterLogin = "#/chat";

function path(): string {
  const raw = location.hash.replace(/^#/, "");
  return raw.startsWith("/") ? raw : `/${raw}`;
}

function buildShell(): void {
  const backdrop = h("div", { class: "backdrop", onclick: () => sidebar?.close() });
  mainEl = h("main", { class: "main", id: "main" });
  shell = h("div", { class: "shell" });
  sidebar = createSidebar(shell, logout);
  setSidebar(sidebar);
  shell.append(sidebar.el, backdrop, mainEl);
  root.replaceChildren(shell);
}

function route(): void {
  const p = path();
  if (!store.me) {
    if (p !== "/login") {
      if (p !== "/" && p !== "/chat") afterLogin = `#${p}`;
      location.replace("#/login");
    }
    showLogin();
    return;
  }
  if (!shell || !shell.isConnected) buildShell();
  const parts = p.split("/").filter(Boolean);
  cleanup?.();
  cleanup = null;
  const main = mainEl as HTMLElement;
  const [section, id, action] = parts;
  let active = p;
  if (section === "login" || !section) {
    location.replace("#/chat");
    return;
  } else if (section === "chat") {
    cleanup = renderChat(main, id ?? null);
    active = id ? `/chat/${id}` : "/chat";
  } else if (section === "bots" && !id) {
    cleanup = renderGallery(main);
  } else if (section === "bots" && id === "new") {
    cleanup = renderBotForm(main, { kind: "new" });
  } else if (section === "bots" && id && action === "edit") {
    cleanup = renderBotForm(main, { kind: "edit", id });
  } else if (section === "bots" && id && action === "customize") {
    cleanup = renderBotForm(main, { kind: "customize", id });
  } else if (section === "profile") {
    cleanup = renderProfile(main);
  } else if (section === "search" || section.startsWith("search?")) {
    cleanup = renderSearch(main);
    active = "/search";
  } else if (section === "admin" && id === "analytics") {
    cleanup = renderDashboard(main);
  } else {
    location.replace("#/chat");
    return;
  }
  sidebar?.setActive(active);
  const titles: Record<string, string> = { chat: "Chat", bots: "Bots", profile: "Profile" };
  titles.search = "Search";
  titles.admin = "Analytics";
  document.title = `${titles[section.split("?")[0]] ?? "Chat"} · Confab`;
}

function showLogin(): void {
  cleanup?.();
  cleanup = null;
  shell = null;
  setSidebar(null);
  document.title = "Log in · Confab";
  renderLogin(root, (me) => {
    signedIn(me);
    const target = afterLogin;
    afterLogin = "#/chat";
    if (location.hash === target) route();
    else location.hash = target;
  });
}

function signedIn(me: Profile): void {
  store.setMe(me);
  applyTheme(me.preferences?.theme ?? "system");
  socket.start();
  void store.loadBots(true).catch(() => undefined);
  void store.loadConversations().catch(() => undefined);
}

function signedOut(): void {
  socket.stop();
  store.reset();
  cleanup?.();
  cleanup = null;
  shell = null;
  if (path() !== "/login") location.hash = "#/login";
  else showLogin();
}

async function logout(): Promise<void> {
  try {
    await api.logout();
  } catch {
    /* the session is gone either way */
  }
  afterLogin = "#/chat";
  signedOut();
}

window.addEventListener("hashchange", route);
window.addEventListener(UNAUTHORIZED_EVENT, () => {
  if (!store.me) return;
  const p = path();
  if (p !== "/login") afterLogin = `#${p}`;
  signedOut();
});
window.addEventListener("confab:route-changed", (ev) => sidebar?.setActive((ev as CustomEvent<string>).detail));
document.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape" && shell?.classList.contains("sidebar-open")) sidebar?.close();
});

async function boot(): Promise<void> {
  try {
    signedIn(await api.me());
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) {
      root.replaceChildren(
        h(
          "div",
          { class: "auth-page" },
          h(
            "div",
            { class: "auth-card" },
            h("div", { class: "brand big" }, h("span", { class: "logo" }, "C"), h("span", null, "Confab")),
            h("h1", null, "Can't reach Confab"),
            h("p", { class: "muted" }, err instanceof Error ? err.message : String(err)),
            h("button", { type: "button", class: "btn primary block", onclick: () => location.reload() }, "Try again"),
          ),
        ),
      );
      return;
    }
  }
  route();
}

void boot();
