// Searching one's own history: the results page, its filters and pages, snippets, and
// opening a conversation scrolled to the message a result points at.

import DOMPurify from "dompurify";
import { errorMessage, request } from "./api";
import { clear, h, icon } from "./dom";
import { topbar } from "./layout";
import { store } from "./state";

export interface SearchHit {
  message_id: string;
  conversation_id: string;
  role: "user" | "assistant";
  bot_id: string;
  bot_name: string;
  created_at: string;
  snippet: string;
}

export interface SearchPage {
  query: string;
  total: number;
  page: number;
  hits: SearchHit[];
}

const PAGE = 20;
export const SEARCH_ICON = ["M11 3a8 8 0 1 0 0 16a8 8 0 1 0 0-16z", "M21 21l-4.35-4.35"];

/** The server escapes the text and marks matches; only <mark> is let through. */
export function snippetNode(snippet: string): HTMLElement {
  const el = h("span", { class: "snippet" });
  el.innerHTML = DOMPurify.sanitize(snippet, { ALLOWED_TAGS: ["mark"], ALLOWED_ATTR: [] });
  return el;
}

export function hitHref(conversationId: string, messageId: string): string {
  return `#/chat/${conversationId}/${messageId}`;
}

/** After a conversation loads: scroll to the message named in `#/chat/<id>/<message>`. */
export function focusTurnFromHash(transcript: HTMLElement): void {
  const messageId = location.hash.replace(/^#\/?/, "").split("/")[2];
  if (!messageId) return;
  const el = transcript.querySelector<HTMLElement>(`[data-turn-id="${CSS.escape(decodeURIComponent(messageId))}"]`);
  if (!el) return;
  el.scrollIntoView({ block: "center" });
  el.classList.add("search-focus");
  window.setTimeout(() => el.classList.remove("search-focus"), 6000);
}

function params(): URLSearchParams {
  const query = location.hash.split("?")[1] ?? "";
  return new URLSearchParams(query);
}

function dayStart(value: string): string | null {
  return value ? new Date(`${value}T00:00:00`).toISOString() : null;
}

function dayEnd(value: string): string | null {
  if (!value) return null;
  const d = new Date(`${value}T00:00:00`);
  d.setDate(d.getDate() + 1);
  return d.toISOString();
}

export function renderSearch(main: HTMLElement): () => void {
  const p = params();
  let disposed = false;
  const q = h("input", { type: "search", class: "search-input", id: "search-q", placeholder: "Words, \"a phrase\", -without", "aria-label": "Search your messages", value: p.get("q") ?? "" });
  const bot = h("select", { id: "search-bot", "aria-label": "Bot" }, h("option", { value: "" }, "Any bot"));
  const role = h(
    "select",
    { id: "search-role", "aria-label": "Who spoke" },
    h("option", { value: "" }, "Anyone"),
    h("option", { value: "user", selected: p.get("role") === "user" }, "You"),
    h("option", { value: "assistant", selected: p.get("role") === "assistant" }, "Bots"),
  );
  const since = h("input", { type: "date", id: "search-since", "aria-label": "From", value: p.get("since") ?? "" });
  const until = h("input", { type: "date", id: "search-until", "aria-label": "To", value: p.get("until") ?? "" });
  const results = h("div", { class: "search-hits", id: "search-hits", "aria-live": "polite" });
  const pager = h("div", { class: "search-pager" });
  let page = Number(p.get("page") ?? "1") || 1;

  const fillBots = () => {
    const chosen = bot.value || p.get("bot") || "";
    clear(bot);
    bot.append(h("option", { value: "" }, "Any bot"), ...store.bots.map((b) => h("option", { value: b.id, selected: b.id === chosen }, b.name)));
  };

  /** The form's state goes into the address, so Back and a reload keep the search. */
  const submit = (toPage = 1) => {
    const next = new URLSearchParams();
    if (q.value.trim()) next.set("q", q.value.trim());
    if (bot.value) next.set("bot", bot.value);
    if (role.value) next.set("role", role.value);
    if (since.value) next.set("since", since.value);
    if (until.value) next.set("until", until.value);
    if (toPage > 1) next.set("page", String(toPage));
    const hash = `#/search?${next.toString()}`;
    if (location.hash === hash) void run();
    else location.hash = hash;
  };

  const run = async () => {
    clear(pager);
    const text = q.value.trim();
    if (!text) {
      results.replaceChildren(h("div", { class: "empty-state" }, h("h2", null, "Search your history"), h("p", { class: "muted" }, "Every message you sent and every reply you got.")));
      return;
    }
    results.replaceChildren(h("div", { class: "loading" }, h("div", { class: "spinner" }), "Searching…"));
    const query = new URLSearchParams({ q: text, page: String(page) });
    if (bot.value || p.get("bot")) query.set("bot", bot.value || p.get("bot") || "");
    if (role.value) query.set("role", role.value);
    const from = dayStart(since.value);
    const to = dayEnd(until.value);
    if (from) query.set("since", from);
    if (to) query.set("until", to);
    try {
      const found = await request<SearchPage>("GET", `/api/search?${query.toString()}`);
      if (disposed) return;
      show(found);
    } catch (err) {
      if (!disposed) results.replaceChildren(h("div", { class: "inline-error standalone", role: "alert" }, `Couldn't search: ${errorMessage(err)}`));
    }
  };

  const show = (found: SearchPage) => {
    if (!found.hits.length) {
      results.replaceChildren(h("div", { class: "empty-state" }, h("h2", null, "No messages match"), h("p", { class: "muted" }, "Try other words or fewer filters.")));
      return;
    }
    results.replaceChildren(
      h("p", { class: "muted search-count" }, `${found.total} message${found.total === 1 ? "" : "s"}`),
      h(
        "ol",
        { class: "search-list" },
        found.hits.map((hit) =>
          h(
            "li",
            null,
            h(
              "a",
              { class: "search-hit", href: hitHref(hit.conversation_id, hit.message_id), "data-message-id": hit.message_id },
              h(
                "div",
                { class: "search-hit-head" },
                h("span", { class: `badge ${hit.role === "user" ? "" : "shared"}` }, hit.role === "user" ? "You" : hit.bot_name || "Bot"),
                h("time", { class: "muted", datetime: hit.created_at }, new Date(hit.created_at).toLocaleString()),
              ),
              snippetNode(hit.snippet),
            ),
          ),
        ),
      ),
    );
    const pages = Math.ceil(found.total / PAGE);
    if (pages > 1) {
      pager.append(
        h("button", { type: "button", class: "btn small", id: "search-prev", disabled: page <= 1, onclick: () => submit(page - 1) }, "Previous"),
        h("span", { class: "muted" }, `Page ${page} of ${pages}`),
        h("button", { type: "button", class: "btn small", id: "search-next", disabled: page >= pages, onclick: () => submit(page + 1) }, "Next"),
      );
    }
  };

  const form = h(
    "form",
    { class: "search-form", role: "search", onsubmit: (ev: Event) => { ev.preventDefault(); page = 1; submit(1); } },
    q,
    h("div", { class: "search-filters" }, bot, role, h("label", { class: "muted" }, "From ", since), h("label", { class: "muted" }, "to ", until)),
    h("button", { type: "submit", class: "btn primary small" }, icon(SEARCH_ICON, 15), "Search"),
  );
  for (const input of [bot, role, since, until]) input.addEventListener("change", () => submit(1));

  main.replaceChildren(
    h(
      "section",
      { class: "page" },
      topbar("Search"),
      h("div", { class: "page-scroll" }, h("div", { class: "page-inner" }, h("div", { class: "page-head" }, h("h1", null, "Search")), form, results, pager)),
    ),
  );
  fillBots();
  void store.loadBots().then(() => !disposed && fillBots()).catch(() => undefined);
  void run();
  q.focus();
  return () => {
    disposed = true;
  };
}
