// Profile & settings: name, avatar, theme, auto-routing, default bot, API tokens.

import { api, ApiError, errorMessage, type Profile, type Theme, type TokenInfo } from "./api";
import { avatar, confirmDialog, copyButton, h, icon, ICONS, toast } from "./dom";
import { topbar } from "./layout";
import { store } from "./state";
import { applyTheme } from "./theme";

export function renderProfile(main: HTMLElement): () => void {
  let disposed = false;
  const me = store.me as Profile;

  // ---- account -------------------------------------------------------------------------------
  const nameInput = h("input", { id: "profile-name", type: "text", maxlength: 60, autocomplete: "name", value: me.display_name });
  const nameError = h("div", { class: "field-error", hidden: true });
  const save = h("button", { id: "profile-save", type: "submit", class: "btn primary" }, "Save");
  const avatarBox = h("div", { class: "avatar-preview" }, avatar(me.avatar_url, me.display_name, 72));
  const avatarInput = h("input", { type: "file", id: "profile-avatar", accept: "image/png,image/jpeg,image/gif,image/webp", class: "visually-hidden" });
  const avatarError = h("div", { class: "field-error", hidden: true });
  avatarInput.addEventListener("change", async () => {
    const file = avatarInput.files?.[0];
    if (!file) return;
    avatarError.hidden = true;
    const url = URL.createObjectURL(file);
    avatarBox.replaceChildren(h("span", { class: "avatar uploading", style: "width:72px;height:72px" }, h("img", { src: url, alt: "", width: 72, height: 72 })));
    try {
      const updated = await api.uploadMyAvatar(file);
      store.setMe(updated);
      avatarBox.replaceChildren(avatar(updated.avatar_url, updated.display_name, 72));
      toast("Avatar updated.", "success");
    } catch (err) {
      avatarBox.replaceChildren(avatar(store.me?.avatar_url, me.display_name, 72));
      avatarError.textContent = errorMessage(err);
      avatarError.hidden = false;
    } finally {
      avatarInput.value = "";
      URL.revokeObjectURL(url);
    }
  });

  const prefs = () => store.me?.preferences ?? me.preferences;
  const patch = async (display_name: string, preferences: Profile["preferences"]) => {
    const updated = await api.updateMe(display_name, preferences);
    store.setMe(updated);
    return updated;
  };

  const accountForm = h(
    "form",
    { class: "card", novalidate: true },
    h("h2", null, "Account"),
    h(
      "div",
      { class: "avatar-row" },
      avatarBox,
      h("div", null, h("label", { class: "btn small", for: "profile-avatar" }, icon(ICONS.upload, 15), "Upload new avatar"), h("p", { class: "field-hint" }, "PNG, JPEG, GIF or WebP; it is cropped to a square."), avatarError),
      avatarInput,
    ),
    h("div", { class: "field" }, h("label", { class: "label", for: "profile-name" }, "Display name"), nameInput, nameError),
    h("div", { class: "field" }, h("span", { class: "label" }, "Email"), h("div", { class: "readonly" }, me.email, me.role === "admin" ? h("span", { class: "badge builtin" }, "Admin") : null)),
    h("div", { class: "form-actions" }, save),
  );
  accountForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    nameError.hidden = true;
    const name = nameInput.value.trim();
    if (!name) {
      nameError.textContent = "Your name can't be empty.";
      nameError.hidden = false;
      nameInput.focus();
      return;
    }
    save.disabled = true;
    try {
      await patch(name, prefs());
      toast("Profile saved.", "success");
    } catch (err) {
      nameError.textContent = errorMessage(err);
      nameError.hidden = false;
    } finally {
      save.disabled = false;
    }
  });

  // ---- preferences ---------------------------------------------------------------------------
  const theme = h(
    "select",
    { id: "theme", "aria-label": "Theme" },
    (["system", "light", "dark"] as Theme[]).map((t) => h("option", { value: t, selected: prefs().theme === t }, t === "system" ? "System (follow my device)" : t === "light" ? "Light" : "Dark")),
  );
  theme.value = prefs().theme ?? "system";
  theme.addEventListener("change", async () => {
    const previous = prefs().theme;
    const value = theme.value as Theme;
    applyTheme(value);
    try {
      await patch(store.me?.display_name ?? me.display_name, { ...prefs(), theme: value });
    } catch (err) {
      applyTheme(previous);
      theme.value = previous;
      toast(`Couldn't save the theme: ${errorMessage(err)}`, "error");
    }
  });

  const autoRoute = h("input", { type: "checkbox", id: "auto-route", role: "switch", checked: !!prefs().auto_route });
  autoRoute.addEventListener("change", async () => {
    const value = autoRoute.checked;
    try {
      await patch(store.me?.display_name ?? me.display_name, { ...prefs(), auto_route: value });
      toast(value ? "Auto-routing is on." : "Auto-routing is off.", "success");
    } catch (err) {
      autoRoute.checked = !value;
      toast(`Couldn't save: ${errorMessage(err)}`, "error");
    }
  });

  const defaultBot = h("select", { id: "default-bot", "aria-label": "Default bot" }, h("option", { value: "" }, "Loading…"));
  const fillBots = () => {
    const current = store.me?.default_bot_id ?? store.defaultBot()?.id ?? "";
    defaultBot.replaceChildren(...store.bots.map((b) => h("option", { value: b.id, selected: b.id === current }, `${b.name}${b.builtin ? " (built-in)" : ""}`)));
    defaultBot.value = current;
  };
  defaultBot.addEventListener("change", async () => {
    try {
      store.setMe(await api.setDefaultBot(defaultBot.value));
      toast("Default bot saved.", "success");
    } catch (err) {
      toast(errorMessage(err), "error");
      fillBots();
    }
  });
  store
    .loadBots()
    .then(() => !disposed && fillBots())
    .catch(() => undefined);

  const prefsCard = h(
    "div",
    { class: "card" },
    h("h2", null, "Preferences"),
    h("div", { class: "setting" }, h("div", null, h("label", { class: "label", for: "theme" }, "Theme"), h("p", { class: "field-hint" }, "Applied right away.")), theme),
    h(
      "div",
      { class: "setting" },
      h("div", null, h("label", { class: "label", for: "auto-route" }, "Auto-routing"), h("p", { class: "field-hint" }, "Let Confab pick the bot whose description fits your message. You can still address a bot yourself with @name.")),
      h("label", { class: "switch" }, autoRoute, h("span", { class: "slider", "aria-hidden": "true" })),
    ),
    h(
      "div",
      { class: "setting" },
      h("div", null, h("label", { class: "label", for: "default-bot" }, "Default bot"), h("p", { class: "field-hint" }, "Who answers when you start a new chat.")),
      defaultBot,
    ),
  );

  // ---- API tokens ------------------------------------------------------------------------------
  const tokenList = h("ul", { class: "token-list" }, h("li", { class: "muted" }, "Loading…"));
  const created = h("div", { class: "token-created", hidden: true });
  const tokenName = h("input", { type: "text", id: "token-name", maxlength: 60, placeholder: "e.g. my script", "aria-label": "Token name" });
  const tokenError = h("div", { class: "field-error", hidden: true });
  const createBtn = h("button", { type: "submit", class: "btn", id: "token-create" }, icon(ICONS.plus, 15), "Create token");

  const renderTokens = (tokens: TokenInfo[]) => {
    if (!tokens.length) {
      tokenList.replaceChildren(h("li", { class: "muted empty" }, "No tokens yet."));
      return;
    }
    tokenList.replaceChildren(
      ...tokens.map((t) => {
        const revoke = h("button", { type: "button", class: "btn small danger-ghost", "data-token-id": t.id }, icon(ICONS.trash, 14), "Revoke");
        revoke.addEventListener("click", async () => {
          if (!(await confirmDialog(`Revoke "${t.name}"?`, "Programs using this token stop working at once.", "Revoke", true))) return;
          revoke.disabled = true;
          try {
            await api.revokeToken(t.id);
            toast("Token revoked.", "success");
            await loadTokens();
          } catch (err) {
            revoke.disabled = false;
            toast(errorMessage(err), "error");
          }
        });
        return h("li", { class: "token-item" }, icon(ICONS.key, 16), h("span", { class: "token-name" }, t.name), revoke);
      }),
    );
  };
  const loadTokens = async () => {
    try {
      const tokens = await api.tokens();
      if (!disposed) renderTokens(tokens);
    } catch (err) {
      if (!disposed) tokenList.replaceChildren(h("li", { class: "field-error" }, errorMessage(err)));
    }
  };
  const tokenForm = h("form", { class: "token-form", novalidate: true }, tokenName, createBtn);
  tokenForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    tokenError.hidden = true;
    const name = tokenName.value.trim();
    if (!name) {
      tokenError.textContent = "Name the token so you know what uses it.";
      tokenError.hidden = false;
      tokenName.focus();
      return;
    }
    createBtn.disabled = true;
    try {
      const t = await api.createToken(name);
      tokenName.value = "";
      const code = h("code", { class: "token-secret" }, t.token);
      created.replaceChildren(
        h("div", { class: "token-created-head" }, h("strong", null, `Token "${t.name}" created`), h("button", { type: "button", class: "icon-btn", "aria-label": "Dismiss", onclick: () => (created.hidden = true) }, icon(ICONS.close, 16))),
        h("p", { class: "field-hint" }, "Copy it now: it won't be shown again. Send it as 'Authorization: Bearer <token>'."),
        h("div", { class: "token-secret-row" }, code, copyButton(() => t.token)),
      );
      created.hidden = false;
      await loadTokens();
    } catch (err) {
      tokenError.textContent = err instanceof ApiError ? err.message : errorMessage(err);
      tokenError.hidden = false;
    } finally {
      createBtn.disabled = false;
    }
  });
  void loadTokens();

  const tokensCard = h(
    "div",
    { class: "card" },
    h("h2", null, "API tokens"),
    h("p", { class: "field-hint" }, "For scripts and programs that talk to Confab on your behalf."),
    created,
    tokenForm,
    tokenError,
    tokenList,
  );

  main.replaceChildren(
    h(
      "section",
      { class: "page" },
      topbar("Profile & settings"),
      h(
        "div",
        { class: "page-scroll" },
        h("div", { class: "page-inner" }, h("div", { class: "page-head" }, h("div", null, h("h1", null, "Profile & settings"), h("p", { class: "muted" }, me.email))), accountForm, prefsCard, tokensCard),
      ),
    ),
  );

  return () => {
    disposed = true;
  };
}
