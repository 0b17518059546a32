// Light / dark / system: a data-theme attribute on <html>; CSS does the rest.

import type { Theme } from "./api";

export function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
  try {
    localStorage.setItem("confab.theme", theme);
  } catch {
    /* private mode */
  }
}
