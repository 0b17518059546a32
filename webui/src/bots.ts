// The bot gallery: every bot the user can talk to, with what they can do to each.

import { api, errorMessage, type Bot } from "./api";
import { avatar, confirmDialog, h, icon, ICONS, toast } from "./dom";
import { topbar } from "./layout";
import { store } from "./state";

function badge(text: string, kind: string): HTMLElement {
  return h("span", { class: `badge ${kind}` }, text);
}

function card(bot: Bot, rerender: () => void): HTMLElement {
  const isDefault = store.me?.default_bot_id === bot.id;
  const badges = h(
    "div",
    { class: "badges" },
    isDefault ? badge("Default", "default") : null,
    bot.builtin ? badge("Built-in", "builtin") : null,
    !bot.builtin ? badge(bot.visibility === "shared" ? "Shared" : "Private", bot.visibility) : null,
    bot.mine ? badge("Yours", "mine") : null,
    bot.customized ? badge("Customized", "customized") : null,
  );
  const chat = h("button", { type: "button", class: "btn primary small", "data-action": "chat" }, icon(ICONS.chat, 15), "Chat");
  chat.addEventListener("click", () => {
    store.nextBotId = bot.id;
    location.hash = "#/chat";
  });
  const makeDefault = h("button", { type: "button", class: "btn small", "data-action": "default", disabled: isDefault, title: isDefault ? "Already your default bot" : "Use this bot for new chats" }, icon(ICONS.star, 15), isDefault ? "Default" : "Make default");
  makeDefault.addEventListener("click", async () => {
    makeDefault.disabled = true;
    try {
      store.setMe(await api.setDefaultBot(bot.id));
      toast(`${bot.name} is now your default bot.`, "success");
      rerender();
    } catch (err) {
      makeDefault.disabled = false;
      toast(errorMessage(err), "error");
    }
  });
  const actions = h("div", { class: "card-actions" }, chat, makeDefault);
  if (bot.mine) {
    actions.append(h("a", { class: "btn small", href: `#/bots/${bot.id}/edit`, "data-action": "edit" }, icon(ICONS.edit, 15), "Edit"));
    const archive = h("button", { type: "button", class: "btn small danger-ghost", "data-action": "archive" }, icon(ICONS.archive, 15), "Archive");
    archive.addEventListener("click", async () => {
      const ok = await confirmDialog(`Archive ${bot.name}?`, "It disappears from the gallery and can't be picked for new chats. Existing conversations stay readable.", "Archive", true);
      if (!ok) return;
      archive.disabled = true;
      try {
        await api.archiveBot(bot.id);
        toast(`${bot.name} archived.`, "success");
        await store.loadBots(true);
        rerender();
      } catch (err) {
        archive.disabled = false;
        toast(errorMessage(err), "error");
      }
    });
    actions.append(archive);
  } else {
    actions.append(h("a", { class: "btn small", href: `#/bots/${bot.id}/customize`, "data-action": "customize", title: "Your own tweaks; the original stays as it is" }, icon(ICONS.sliders, 15), "Customize"));
  }
  return h(
    "article",
    { class: "bot-card", "data-bot-id": bot.id },
    h(
      "div",
      { class: "bot-card-head" },
      avatar(bot.avatar_url, bot.name, 48),
      h("div", { class: "bot-card-title" }, h("h3", null, bot.name), h("span", { class: "handle muted" }, `@${bot.handle}`)),
    ),
    badges,
    h("p", { class: "bot-desc" }, bot.description || "No description."),
    bot.traits.length ? h("div", { class: "chips" }, bot.traits.map((t) => h("span", { class: "chip static" }, t))) : null,
    actions,
  );
}

export function renderGallery(main: HTMLElement): () => void {
  let disposed = false;
  const grid = h("div", { class: "bot-grid" }, h("div", { class: "loading" }, h("div", { class: "spinner" }), "Loading bots…"));
  const filter = h("input", { type: "search", class: "search-input", placeholder: "Search bots", "aria-label": "Search bots" });

  const rerender = () => {
    if (disposed) return;
    const q = filter.value.trim().toLowerCase();
    const bots = store.bots.filter((b) => !q || `${b.name} ${b.handle} ${b.description} ${b.traits.join(" ")}`.toLowerCase().includes(q));
    const section = (title: string, list: Bot[]) =>
      list.length ? [h("h2", { class: "section-title" }, title, h("span", { class: "count" }, String(list.length))), h("div", { class: "bot-grid" }, list.map((b) => card(b, rerender)))] : [];
    const mineList = bots.filter((b) => b.mine);
    const builtin = bots.filter((b) => !b.mine && b.builtin);
    const shared = bots.filter((b) => !b.mine && !b.builtin);
    const body = [...section("Your bots", mineList), ...section("Built-in", builtin), ...section("Shared with everyone", shared)];
    grid.replaceChildren(
      ...(body.length
        ? body
        : [h("div", { class: "empty-state" }, h("h2", null, q ? "No bots match" : "No bots yet"), h("p", { class: "muted" }, q ? "Try another search." : "Create the first one."))]),
    );
    grid.className = "gallery-sections";
  };
  filter.addEventListener("input", rerender);

  main.replaceChildren(
    h(
      "section",
      { class: "page" },
      topbar("Bots", h("a", { class: "btn primary small", href: "#/bots/new", id: "new-bot" }, icon(ICONS.plus, 15), "New bot")),
      h(
        "div",
        { class: "page-scroll" },
        h(
          "div",
          { class: "page-inner wide" },
          h("div", { class: "page-head" }, h("div", null, h("h1", null, "Bots"), h("p", { class: "muted" }, "Pick who you talk to, make your own, or tweak a shared one to your taste.")), filter),
          grid,
        ),
      ),
    ),
  );

  store
    .loadBots(true)
    .then(rerender)
    .catch((err) => {
      if (!disposed) grid.replaceChildren(h("div", { class: "inline-error standalone", role: "alert" }, `Couldn't load the bots: ${errorMessage(err)}`));
    });
  const off = store.on("me", rerender);
  return () => {
    disposed = true;
    off();
  };
}
