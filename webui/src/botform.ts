// Create / edit / customize a bot, with a live preview of the system prompt it makes.

import { api, ApiError, errorMessage, type Bot, type BotFields, type BotOptions, type Sampling } from "./api";
import { avatar, debounce, h, icon, ICONS, toast } from "./dom";
import { topbar } from "./layout";
import { renderMarkdown } from "./render";
import { store } from "./state";

export type BotFormMode = { kind: "new" } | { kind: "edit"; id: string } | { kind: "customize"; id: string };

const SAMPLING_UI: { key: keyof Sampling; label: string; step: number; help: string }[] = [
  { key: "temperature", label: "Temperature", step: 0.05, help: "Higher is more varied and creative; lower is more focused." },
  { key: "top_p", label: "Top-p", step: 0.05, help: "Only sample from the most likely words that add up to this share." },
  { key: "max_new_tokens", label: "Max reply length (tokens)", step: 1, help: "The longest reply the bot may write." },
  { key: "repetition_penalty", label: "Repetition penalty", step: 0.01, help: "Above 1 discourages repeating itself." },
];

const DEFAULT_SAMPLING: Sampling = { temperature: 0.7, top_p: 0.95, max_new_tokens: 256, repetition_penalty: 1.1 };

function clamp(v: number, [lo, hi]: [number, number]): number {
  return Math.min(hi, Math.max(lo, v));
}

function fmt(key: keyof Sampling, v: number): string {
  return key === "max_new_tokens" ? String(Math.round(v)) : v.toFixed(2);
}

export function renderBotForm(main: HTMLElement, mode: BotFormMode): () => void {
  let disposed = false;
  const customizing = mode.kind === "customize";
  const heading = mode.kind === "new" ? "New bot" : customizing ? "Customize bot" : "Edit bot";
  const body = h("div", { class: "page-inner wide" }, h("div", { class: "loading" }, h("div", { class: "spinner" }), "Loading…"));
  main.replaceChildren(
    h(
      "section",
      { class: "page" },
      topbar(heading, h("a", { class: "btn small ghost", href: "#/bots" }, icon(ICONS.back, 15), "All bots")),
      h("div", { class: "page-scroll" }, body),
    ),
  );

  const start = async () => {
    const [options, bot] = await Promise.all([
      api.botOptions(),
      mode.kind === "new" ? Promise.resolve(null) : api.bot(mode.id),
      store.loadBots().catch(() => []),
    ]);
    if (disposed) return;
    build(options, bot);
  };
  start().catch((err) => {
    if (disposed) return;
    const notFound = err instanceof ApiError && (err.status === 404 || err.status === 403);
    body.replaceChildren(
      h(
        "div",
        { class: "empty-state" },
        h("h2", null, notFound ? "Bot not found" : "Couldn't load this bot"),
        h("p", { class: "muted" }, notFound ? "It may have been archived, or you can't edit it." : errorMessage(err)),
        h("a", { class: "btn primary", href: "#/bots" }, "Back to bots"),
      ),
    );
  });

  function build(options: BotOptions, bot: Bot | null): void {
    if (mode.kind === "edit" && bot && !bot.mine) {
      location.replace(`#/bots/${bot.id}/customize`);
      return;
    }
    const errors = new Map<string, HTMLElement>();
    const errorSlot = (field: string) => {
      const el = h("div", { class: "field-error", hidden: true, "data-field": field });
      errors.set(field, el);
      return el;
    };
    const counter = (input: HTMLInputElement | HTMLTextAreaElement, limit: number) => {
      const el = h("span", { class: "counter" });
      const update = () => {
        el.textContent = `${input.value.length} / ${limit}`;
        el.classList.toggle("over", input.value.length > limit);
      };
      input.addEventListener("input", update);
      update();
      return el;
    };
    const field = (label: string, id: string, input: HTMLElement, fieldName: string, extra?: Node | null, hint?: string) =>
      h(
        "div",
        { class: "field" },
        h("div", { class: "label-row" }, h("label", { class: "label", for: id }, label), extra ?? null),
        hint ? h("p", { class: "field-hint" }, hint) : null,
        input,
        errorSlot(fieldName),
      );

    // name / description
    const name = h("input", { id: "bot-name", type: "text", maxlength: options.limits.name, placeholder: "e.g. Ada the Tutor", autocomplete: "off", value: bot?.name ?? "" });
    const description = h("textarea", { id: "bot-description", rows: 3, maxlength: options.limits.description, placeholder: "What is this bot good at? Auto-routing reads this." });
    description.value = bot?.description ?? "";

    // avatar
    let avatarFile: File | null = null;
    const avatarPreview = h("div", { class: "avatar-preview" }, avatar(bot?.avatar_url, bot?.name || "New bot", 64));
    const avatarInput = h("input", { type: "file", accept: "image/png,image/jpeg,image/gif,image/webp", id: "bot-avatar", class: "visually-hidden" });
    avatarInput.addEventListener("change", () => {
      const file = avatarInput.files?.[0];
      if (!file) return;
      if (file.size > 5 * 1024 * 1024) {
        showErrors(new ApiError(413, "too_large", "That image is too big (5 MB at most).", "avatar"));
        return;
      }
      avatarFile = file;
      const url = URL.createObjectURL(file);
      avatarPreview.replaceChildren(h("span", { class: "avatar", style: "width:64px;height:64px" }, h("img", { src: url, alt: "New avatar preview", width: 64, height: 64 })));
      previewAvatar.replaceChildren(h("span", { class: "avatar", style: "width:48px;height:48px" }, h("img", { src: url, alt: "", width: 48, height: 48 })));
    });
    const avatarField = h(
      "div",
      { class: "field" },
      h("span", { class: "label" }, "Avatar"),
      h(
        "div",
        { class: "avatar-row" },
        avatarPreview,
        h("label", { class: "btn small", for: "bot-avatar" }, icon(ICONS.upload, 15), "Upload image"),
        avatarInput,
        h("span", { class: "field-hint" }, "PNG, JPEG, GIF or WebP. Saved with the bot."),
      ),
      errorSlot("avatar"),
    );

    // traits
    const chosen = new Set(bot?.traits ?? []);
    const traitCount = h("span", { class: "counter" });
    const chips = h("div", { class: "chips", role: "group", "aria-label": "Traits" });
    const renderChips = () => {
      const full = chosen.size >= options.max_traits;
      chips.replaceChildren(
        ...options.traits.map((t) => {
          const on = chosen.has(t);
          const chip = h("button", { type: "button", class: "chip toggle", "aria-pressed": on ? "true" : "false", "data-trait": t, disabled: !on && full }, t);
          chip.addEventListener("click", () => {
            if (chosen.has(t)) chosen.delete(t);
            else if (chosen.size < options.max_traits) chosen.add(t);
            renderChips();
            changed();
          });
          return chip;
        }),
      );
      traitCount.textContent = `${chosen.size} / ${options.max_traits}`;
    };
    renderChips();
    const traitsText = h("textarea", { id: "bot-traits-text", rows: 2, maxlength: options.limits.traits_text, placeholder: "Anything else about its personality, in your own words." });
    traitsText.value = bot?.traits_text ?? "";
    const greeting = h("textarea", { id: "bot-greeting", rows: 2, maxlength: options.limits.greeting, placeholder: "The first thing it says in a new chat." });
    greeting.value = bot?.greeting ?? "";

    // sampling
    const sampling: Sampling = { ...DEFAULT_SAMPLING, ...(bot?.sampling ?? {}) };
    const samplingRows = SAMPLING_UI.map(({ key, label, step, help }) => {
      const range = (options.sampling_ranges[key] ?? [0, 1]) as [number, number];
      sampling[key] = clamp(Number(sampling[key]), range);
      const slider = h("input", { type: "range", id: `bot-${key}`, min: range[0], max: range[1], step, value: sampling[key], "aria-label": label });
      const num = h("input", { type: "number", class: "num", min: range[0], max: range[1], step, value: fmt(key, sampling[key]), "aria-label": `${label} value` });
      slider.addEventListener("input", () => {
        sampling[key] = Number(slider.value);
        num.value = fmt(key, sampling[key]);
        changed();
      });
      num.addEventListener("change", () => {
        const v = Number(num.value);
        if (Number.isFinite(v)) sampling[key] = clamp(key === "max_new_tokens" ? Math.round(v) : v, range);
        num.value = fmt(key, sampling[key]);
        slider.value = String(sampling[key]);
        changed();
      });
      return h(
        "div",
        { class: "slider-row" },
        h("div", { class: "label-row" }, h("label", { class: "label", for: `bot-${key}` }, label), num),
        slider,
        h("div", { class: "range-ends muted" }, h("span", null, fmt(key, range[0])), h("span", { class: "field-hint" }, help), h("span", null, fmt(key, range[1]))),
        errorSlot(`sampling.${key}`),
      );
    });

    // visibility
    let visibility = bot?.visibility ?? "private";
    const visLabels: Record<string, [string, string]> = {
      private: ["Private", "Only you can see and use it."],
      shared: ["Shared", "Everyone on this Confab can chat with it and customize their own copy."],
    };
    const visibilityField = h(
      "fieldset",
      { class: "field radios" },
      h("legend", { class: "label" }, "Visibility"),
      ...options.visibilities.map((v) => {
        const input = h("input", { type: "radio", name: "visibility", value: v, checked: v === visibility });
        input.addEventListener("change", () => {
          if (input.checked) visibility = v as Bot["visibility"];
        });
        const [title, desc] = visLabels[v] ?? [v, ""];
        return h("label", { class: "radio-card" }, input, h("span", null, h("strong", null, title), h("span", { class: "muted" }, desc)));
      }),
      errorSlot("visibility"),
    );

    const formError = h("div", { class: "form-error", role: "alert", hidden: true });
    const save = h("button", { id: "bot-save", type: "submit", class: "btn primary" }, mode.kind === "new" ? "Create bot" : customizing ? "Save my customization" : "Save changes");

    // live preview
    const previewAvatar = h("div", null, avatar(bot?.avatar_url, bot?.name || "Your bot", 48));
    const previewName = h("div", { class: "preview-name" });
    const previewDesc = h("div", { class: "preview-desc muted" });
    const previewGreeting = h("div", { class: "msg-content markdown preview-greeting" });
    const previewPrompt = h("pre", { class: "system-prompt", id: "bot-system-prompt" });
    const previewState = h("span", { class: "preview-state muted" });
    const preview = h(
      "aside",
      { class: "preview-panel", id: "bot-preview", "aria-live": "polite" },
      h("div", { class: "preview-title" }, h("h2", null, "Live preview"), previewState),
      h("div", { class: "preview-card" }, previewAvatar, h("div", null, previewName, previewDesc)),
      h("div", { class: "preview-bubble" }, previewGreeting),
      h("h3", null, "System prompt"),
      h("p", { class: "field-hint" }, "What the model is told before every chat with this bot."),
      previewPrompt,
    );
    previewPrompt.textContent = bot?.system_prompt ?? "";

    const fields = (): BotFields => {
      const f: BotFields = {
        name: name.value.trim(),
        traits: options.traits.filter((t) => chosen.has(t)),
        traits_text: traitsText.value.trim(),
        greeting: greeting.value.trim(),
        sampling: { ...sampling, max_new_tokens: Math.round(sampling.max_new_tokens) },
      };
      if (!customizing) {
        f.description = description.value.trim();
        f.visibility = visibility;
      }
      return f;
    };

    let seq = 0;
    const refreshPreview = debounce(async () => {
      const mine = ++seq;
      const f = fields();
      const req: BotFields = { ...f };
      delete req.visibility;
      if (!req.name) delete req.name;
      if (customizing) req.description = bot?.description ?? "";
      previewState.textContent = "Updating…";
      try {
        const { system_prompt } = await api.previewBot(req);
        if (mine !== seq || disposed) return;
        previewPrompt.textContent = system_prompt;
        previewPrompt.classList.remove("stale");
        previewState.textContent = "";
      } catch (err) {
        if (mine !== seq || disposed) return;
        previewPrompt.classList.add("stale");
        previewState.textContent = err instanceof ApiError && err.status === 422 ? `Can't preview: ${err.message}` : "Preview unavailable";
      }
    }, 250);

    const changed = () => {
      const f = fields();
      previewName.textContent = f.name || "Your bot";
      if (!avatarFile && !bot) previewAvatar.replaceChildren(avatar(null, f.name || "Your bot", 48));
      previewDesc.textContent = customizing ? bot?.description ?? "" : f.description || "No description yet.";
      renderMarkdown(previewGreeting, f.greeting || "*No greeting — the bot waits for you to speak first.*");
      refreshPreview();
    };

    const clearErrors = () => {
      formError.hidden = true;
      for (const el of errors.values()) {
        el.hidden = true;
        el.previousElementSibling?.removeAttribute("aria-invalid");
      }
    };
    const showErrors = (err: unknown) => {
      const field = err instanceof ApiError ? err.field ?? "" : "";
      const slot = errors.get(field) ?? (field === "data" ? errors.get("avatar") : undefined) ?? (field.startsWith("sampling") ? errors.get(field) : undefined);
      if (slot) {
        slot.textContent = errorMessage(err);
        slot.hidden = false;
        slot.scrollIntoView({ block: "center", behavior: "smooth" });
        const input = slot.parentElement?.querySelector("input, textarea");
        input?.setAttribute("aria-invalid", "true");
      } else {
        formError.textContent = errorMessage(err);
        formError.hidden = false;
      }
    };

    const form = h(
      "form",
      { class: "bot-form", novalidate: true },
      customizing
        ? h("div", { class: "callout" }, icon(ICONS.sliders, 16), h("span", null, `You're customizing ${bot?.name ?? "this bot"} for yourself. Its owner's version stays unchanged; only your chats use these settings.`))
        : null,
      h(
        "div",
        { class: "card" },
        h("h2", null, "Identity"),
        field("Name", "bot-name", name, "name", counter(name, options.limits.name)),
        customizing ? null : field("Description", "bot-description", description, "description", counter(description, options.limits.description)),
        customizing ? null : avatarField,
      ),
      h(
        "div",
        { class: "card" },
        h("h2", null, "Personality"),
        h(
          "div",
          { class: "field" },
          h("div", { class: "label-row" }, h("span", { class: "label" }, "Traits"), traitCount),
          h("p", { class: "field-hint" }, `Pick up to ${options.max_traits}.`),
          chips,
          errorSlot("traits"),
        ),
        field("In your own words", "bot-traits-text", traitsText, "traits_text", counter(traitsText, options.limits.traits_text)),
        field("Greeting", "bot-greeting", greeting, "greeting", counter(greeting, options.limits.greeting)),
      ),
      h("div", { class: "card" }, h("h2", null, "Sampling"), ...samplingRows, errorSlot("sampling")),
      customizing ? null : h("div", { class: "card" }, h("h2", null, "Sharing"), visibilityField),
      formError,
      h("div", { class: "form-actions" }, h("a", { class: "btn ghost", href: "#/bots" }, "Cancel"), save),
    );
    for (const input of [name, description, traitsText, greeting]) input.addEventListener("input", changed);

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors();
      const f = fields();
      if (!f.name) {
        showErrors(new ApiError(422, "invalid_field", "Give your bot a name.", "name"));
        name.focus();
        return;
      }
      save.disabled = true;
      save.classList.add("busy");
      try {
        let saved: Bot;
        if (mode.kind === "new") saved = await api.createBot(f);
        else if (mode.kind === "edit") saved = await api.updateBot(mode.id, f);
        else saved = await api.customizeBot(mode.id, f);
        if (avatarFile && !customizing) {
          try {
            saved = await api.uploadBotAvatar(saved.id, avatarFile);
          } catch (err) {
            await store.loadBots(true).catch(() => []);
            if (mode.kind === "new") location.replace(`#/bots/${saved.id}/edit`);
            toast(`Saved, but the avatar failed: ${errorMessage(err)}`, "error");
            return;
          }
        }
        await store.loadBots(true).catch(() => []);
        toast(mode.kind === "new" ? `${saved.name} is ready.` : "Saved.", "success");
        location.hash = "#/bots";
      } catch (err) {
        showErrors(err);
      } finally {
        save.disabled = false;
        save.classList.remove("busy");
      }
    });

    body.replaceChildren(
      h("div", { class: "page-head" }, h("div", null, h("h1", null, customizing ? `Customize ${bot?.name ?? ""}` : mode.kind === "new" ? "Create a bot" : `Edit ${bot?.name ?? ""}`), h("p", { class: "muted" }, "Give it a name, a personality and a voice. The preview updates as you type."))),
      h("div", { class: "bot-editor" }, form, preview),
    );
    changed();
    if (mode.kind === "new") name.focus();
  }

  return () => {
    disposed = true;
  };
}
