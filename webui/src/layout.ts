// The bits every signed-in page shares: the top bar with the phone menu button.

import { h, icon, ICONS } from "./dom";
import type { SidebarHandle } from "./sidebar";

let sidebar: SidebarHandle | null = null;

export function setSidebar(handle: SidebarHandle | null): void {
  sidebar = handle;
}

export function getSidebar(): SidebarHandle | null {
  return sidebar;
}

export function topbar(title: Node | string, ...right: (Node | null)[]): HTMLElement {
  return h(
    "header",
    { class: "topbar" },
    h("button", { type: "button", class: "icon-btn menu-btn", "aria-label": "Open sidebar", "aria-controls": "sidebar", onclick: () => sidebar?.toggle() }, icon(ICONS.menu)),
    h("div", { class: "topbar-title" }, title),
    h("div", { class: "topbar-right" }, ...right),
  );
}
