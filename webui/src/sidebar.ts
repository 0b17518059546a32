// The left sidebar: New chat, the conversation list by day, links, the user, log out.

import { api, errorMessage, type ConversationSummary } from "./api";
import { avatar, clear, confirmDialog, h, icon, ICONS, toast } from "./dom";
import { store } from "./state";

const CHART_ICON = ["M3 3v18h18", "M7 15l4-4 3 3 5-6"];

export interface SidebarHandle {
  el: HTMLElement;
  setActive(route: string): void;
  open(): void;
  close(): void;
  toggle(): void;
}

function groupOf(iso: string, now: Date): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "Older";
  const startOfToday = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
  const day = 86400000;
  const t = d.getTime();
  if (t >= startOfToday) return "Today";
  if (t >= startOfToday - day) return "Yesterday";
  if (t >= startOfToday - 7 * day) return "Previous 7 days";
  return "Older";
}

/** Go to a new chat; when already there, start it over. */
export function newChat(): void {
  if (location.hash === "#/chat" || location.hash === "#/chat/") window.dispatchEvent(new HashChangeEvent("hashchange"));
  else location.hash = "#/chat";
}

const GROUPS = ["Today", "Yesterday", "Previous 7 days", "Older"];

export function createSidebar(shell: HTMLElement, onLogout: () => void): SidebarHandle {
  let activeRoute = "";
  const list = h("nav", { class: "conv-list", "aria-label": "Conversations" });

  /** The conversation being renamed: the list is not redrawn under the input. */
  let renaming: string | null = null;
  let redrawLater = false;

  const rename = (c: ConversationSummary, row: HTMLElement) => {
    if (renaming) return;
    renaming = c.id;
    const before = c.title || "New chat";
    const input = h("input", { type: "text", class: "conv-rename-input", value: before, maxlength: 120, "aria-label": "Chat title" });
    const link = row.querySelector<HTMLElement>(".conv-item");
    const tools = row.querySelector<HTMLElement>(".conv-tools");
    if (link) link.hidden = true;
    if (tools) tools.hidden = true;
    row.classList.add("renaming");
    row.append(input);
    input.focus();
    input.select();
    let finished = false;
    const finish = async (save: boolean) => {
      if (finished) return;
      finished = true;
      const title = input.value.trim();
      if (save && title && title !== before) {
        input.disabled = true;
        try {
          const t = await api.renameConversation(c.id, title);
          c.title = t.title;
          window.dispatchEvent(new CustomEvent("confab:conversation-renamed", { detail: { id: c.id, title: t.title } }));
        } catch (err) {
          toast(`Couldn't rename: ${errorMessage(err)}`, "error");
        }
      }
      renaming = null;
      renderList();
      if (redrawLater) {
        redrawLater = false;
        void store.loadConversations().catch(() => undefined);
      }
    };
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") {
        ev.preventDefault();
        void finish(true);
      } else if (ev.key === "Escape") {
        ev.preventDefault();
        ev.stopPropagation();
        void finish(false);
      }
    });
    input.addEventListener("blur", () => void finish(true));
  };

  const remove = async (c: ConversationSummary) => {
    const ok = await confirmDialog("Delete chat?", `“${c.title || "New chat"}” will be deleted. This can't be undone.`, "Delete", true);
    if (!ok) return;
    try {
      await api.deleteConversation(c.id);
    } catch (err) {
      toast(`Couldn't delete: ${errorMessage(err)}`, "error");
      return;
    }
    store.conversations = store.conversations.filter((x) => x.id !== c.id);
    store.emit("conversations");
    toast("Chat deleted.", "success");
    if (location.hash === `#/chat/${c.id}`) newChat();
  };

  const renderList = () => {
    if (renaming) {
      redrawLater = true;
      return;
    }
    clear(list);
    const convs = store.conversations;
    if (!convs.length) {
      list.append(h("p", { class: "conv-empty muted" }, "No conversations yet. Say hello!"));
      return;
    }
    const now = new Date();
    const groups = new Map<string, ConversationSummary[]>();
    for (const c of convs) {
      const g = groupOf(c.last_activity || c.started_at, now);
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g)!.push(c);
    }
    for (const g of GROUPS) {
      const items = groups.get(g);
      if (!items?.length) continue;
      list.append(
        h("div", { class: "conv-group" }, g),
        ...items.map((c) => {
          const href = `#/chat/${c.id}`;
          const bot = store.bot(c.bot_id);
          const title = c.title || "New chat";
          const row: HTMLElement = h(
            "div",
            { class: "conv-row", "data-conversation-id": c.id },
            h(
              "a",
              { class: "conv-item", href, "data-conversation-id": c.id, title, "aria-current": activeRoute === href.slice(1) ? "page" : null },
              avatar(bot?.avatar_url, c.bot_name || "Bot", 20),
              h("span", { class: "conv-title" }, title),
            ),
            h(
              "div",
              { class: "conv-tools" },
              h("button", { type: "button", class: "conv-tool conv-rename", title: "Rename", "aria-label": `Rename “${title}”`, onclick: () => rename(c, row) }, icon(ICONS.edit, 14)),
              h("button", { type: "button", class: "conv-tool conv-delete", title: "Delete", "aria-label": `Delete “${title}”`, onclick: () => void remove(c) }, icon(ICONS.trash, 14)),
            ),
          );
          return row;
        }),
      );
    }
  };

  const searchBox = h("input", { type: "search", class: "search-input sidebar-search", id: "sidebar-search", placeholder: "Search messages", "aria-label": "Search your messages" });
  const searchForm = h(
    "form",
    { class: "sidebar-search-form", role: "search", onsubmit: (ev: Event) => { ev.preventDefault(); const q = searchBox.value.trim(); if (q) { location.hash = `#/search?q=${encodeURIComponent(q)}`; handle.close(); } } },
    searchBox,
  );
  const analyticsLink = h("a", { class: "nav-link", href: "#/admin/analytics", "data-route": "/admin/analytics", id: "analytics-link", hidden: true }, icon(CHART_ICON), h("span", null, "Analytics"));
  const userBox = h("div", { class: "user-box" });
  const renderUser = () => {
    clear(userBox);
    const me = store.me;
    analyticsLink.hidden = me?.role !== "admin";
    if (!me) return;
    userBox.append(
      h(
        "a",
        { class: "user-link", href: "#/profile", title: "Profile and settings" },
        avatar(me.avatar_url, me.display_name, 30),
        h("span", { class: "user-name" }, me.display_name),
      ),
      h("button", { type: "button", class: "icon-btn", id: "logout", title: "Log out", "aria-label": "Log out", onclick: onLogout }, icon(ICONS.logout)),
    );
  };

  const navLink = (href: string, label: string, paths: string[]) =>
    h("a", { class: "nav-link", href, "data-route": href.slice(1) }, icon(paths), h("span", null, label));

  const el = h(
    "aside",
    { class: "sidebar", id: "sidebar" },
    h(
      "div",
      { class: "sidebar-top" },
      h("a", { class: "brand", href: "#/chat" }, h("span", { class: "logo" }, "C"), h("span", null, "Confab")),
      h("button", { type: "button", class: "icon-btn only-phone", "aria-label": "Close sidebar", onclick: () => handle.close() }, icon(ICONS.close)),
    ),
    h("button", { type: "button", id: "new-chat", class: "btn new-chat", onclick: newChat }, icon(ICONS.plus), h("span", null, "New chat")),
    searchForm,
    list,
    h("div", { class: "sidebar-nav" }, navLink("#/bots", "Bots", ICONS.bots), navLink("#/profile", "Profile & settings", ICONS.user), analyticsLink),
    userBox,
  );
  el.addEventListener("click", (ev) => {
    if ((ev.target as HTMLElement).closest("a, #new-chat")) handle.close();
  });

  store.on("conversations", renderList);
  store.on("bots", renderList);
  store.on("me", renderUser);
  renderList();
  renderUser();

  const handle: SidebarHandle = {
    el,
    setActive(route: string) {
      activeRoute = route;
      for (const a of Array.from(el.querySelectorAll<HTMLAnchorElement>(".conv-item"))) {
        if (a.getAttribute("href") === `#${route}`) a.setAttribute("aria-current", "page");
        else a.removeAttribute("aria-current");
      }
      for (const a of Array.from(el.querySelectorAll<HTMLAnchorElement>(".nav-link"))) {
        const r = a.dataset.route ?? "";
        a.classList.toggle("active", route === r || route.startsWith(`${r}/`));
      }
    },
    open: () => shell.classList.add("sidebar-open"),
    close: () => shell.classList.remove("sidebar-open"),
    toggle: () => shell.classList.toggle("sidebar-open"),
  };
  return handle;
}
