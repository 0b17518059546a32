// The chat page: the transcript (a tree of turns, one branch shown), streaming replies,
// stop / regenerate / edit / feedback, the composer (@handle autocomplete), the new-chat
// bot picker.

import { AttachmentTray, attachmentList, type Attachment } from "./attachments";
import { api, ApiError, errorMessage, type Bot, type Feedback, type Transcript, type TranscriptMessage, type TurnStatus, type Usage } from "./api";
import { avatar, clear, copyButton, h, icon, ICONS, toast, uuid } from "./dom";
import { topbar } from "./layout";
import { renderMarkdown } from "./render";
import { socket, type ConnState, type ControlFrame, type EditFrame, type SendFrame, type ServerFrame } from "./socket";
import { hitHref, focusTurnFromHash, snippetNode } from "./search";
import { store } from "./state";

type Status = "streaming" | "complete" | "failed" | "cancelled";

/** One turn of the conversation's tree, as the client knows it. */
interface Turn {
  id: string;
  role: "user" | "assistant";
  text: string;
  status: TurnStatus;
  parent_id: string | null;
  /** Creation order: the server's order, then local turns after it. */
  seq: number;
  usage?: Usage | null;
  error?: string | null;
  bot_name?: string | null;
  feedback?: Feedback | null;
  attachments?: Attachment[] | null;
  /** An edit sent but not yet accepted: its id is `local:<client_msg_id>`. */
  local?: boolean;
}

interface ReplyHooks {
  onGrow: () => void;
  onThumb: (reply: Reply, rating: 1 | -1) => void;
  onComment: (reply: Reply, comment: string) => void;
  onRegenerate: (reply: Reply) => void;
}

const ALERT_ICON = ["M12 8v5", "M12 16h.01", "M12 2a10 10 0 1 0 0 20a10 10 0 1 0 0-20z"];

/** One assistant reply on screen: grows with deltas, then is replaced by the final text. */
class Reply {
  readonly el: HTMLElement;
  readonly branchSlot: HTMLElement;
  private content: HTMLElement;
  private meta: HTMLElement;
  private stopped: HTMLElement;
  private author: HTMLElement;
  private avatarBox: HTMLElement;
  private actions: HTMLElement;
  private copy: HTMLElement;
  private thumbUp: HTMLButtonElement;
  private thumbDown: HTMLButtonElement;
  private regen: HTMLButtonElement;
  private feedbackBox: HTMLElement;
  private comment: HTMLTextAreaElement;
  text = "";
  /** Stop was asked for: later deltas are not shown. */
  stopping = false;
  private frame = 0;
  private last = false;
  private rating: 1 | -1 | 0 = 0;

  constructor(
    readonly id: string,
    botName: string,
    botAvatar: string | null | undefined,
    private hooks: ReplyHooks,
  ) {
    this.avatarBox = h("div", { class: "msg-avatar" }, avatar(botAvatar, botName, 30));
    this.author = h("div", { class: "msg-author" }, botName);
    this.content = h("div", { class: "msg-content markdown" });
    this.meta = h("div", { class: "msg-meta", hidden: true });
    this.stopped = h("span", { class: "msg-stopped", hidden: true }, "Stopped");
    this.branchSlot = h("span", { class: "branch-slot" });
    this.copy = copyButton(() => this.text, "Copy", "subtle");
    const thumb = (rating: 1 | -1) =>
      h(
        "button",
        {
          type: "button",
          class: `btn-copy icon-only ${rating > 0 ? "thumb-up" : "thumb-down"}`,
          title: rating > 0 ? "Good response" : "Bad response",
          "aria-label": rating > 0 ? "Good response" : "Bad response",
          "aria-pressed": "false",
          onclick: () => this.hooks.onThumb(this, rating),
        },
        icon(rating > 0 ? ICONS.thumbUp : ICONS.thumbDown, 14),
      );
    this.thumbUp = thumb(1);
    this.thumbDown = thumb(-1);
    this.regen = h(
      "button",
      { type: "button", class: "btn-copy regenerate", title: "Write this reply again", onclick: () => this.hooks.onRegenerate(this) },
      icon(ICONS.regenerate, 14),
      h("span", null, "Regenerate"),
    );
    this.actions = h("div", { class: "msg-actions", hidden: true }, this.copy, this.thumbUp, this.thumbDown, this.regen);
    this.comment = h("textarea", {
      class: "feedback-comment",
      rows: 2,
      maxlength: 2000,
      placeholder: "Tell us more (optional)",
      "aria-label": "Feedback comment",
    });
    const sendComment = () => this.hooks.onComment(this, this.comment.value.trim());
    this.comment.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        sendComment();
      } else if (ev.key === "Escape") {
        ev.preventDefault();
        ev.stopPropagation();
        this.closeComment();
      }
    });
    this.feedbackBox = h(
      "div",
      { class: "feedback-box", hidden: true },
      this.comment,
      h(
        "div",
        { class: "feedback-box-actions" },
        h("button", { type: "button", class: "btn small ghost feedback-close", onclick: () => this.closeComment() }, "Close"),
        h("button", { type: "button", class: "btn small primary feedback-send", onclick: sendComment }, "Send"),
      ),
    );
    this.el = h(
      "div",
      { class: "msg assistant", "data-status": "streaming", "data-response-id": id },
      this.avatarBox,
      h(
        "div",
        { class: "msg-body" },
        this.author,
        this.content,
        h("div", { class: "msg-foot" }, this.branchSlot, this.stopped, this.meta, this.actions),
        this.feedbackBox,
      ),
    );
    this.showTyping();
  }

  get status(): Status {
    return this.el.dataset.status as Status;
  }

  setBot(name: string, avatarUrl: string | null | undefined): void {
    if (this.author.textContent === name) return;
    this.author.textContent = name;
    this.avatarBox.replaceChildren(avatar(avatarUrl, name, 30));
  }

  showTyping(): void {
    this.content.replaceChildren(h("div", { class: "typing", "aria-label": "Typing" }, h("span"), h("span"), h("span")));
  }

  append(delta: string): void {
    if (this.status !== "streaming" || this.stopping) return;
    this.text += delta;
    if (!this.frame) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        if (this.status !== "streaming" || this.stopping) return;
        renderMarkdown(this.content, this.text, true);
        // The blinking cursor goes at the end of the last paragraph / list item, not below it.
        let host: Element = this.content;
        while (host.lastElementChild && /^(P|UL|OL|LI|BLOCKQUOTE|H[1-6])$/.test(host.lastElementChild.tagName)) host = host.lastElementChild;
        host.append(h("span", { class: "cursor" }));
        this.hooks.onGrow();
      });
    }
  }

  /** Stop was asked for: freeze what is shown until the server says it ended. */
  freeze(): void {
    if (this.status !== "streaming") return;
    this.stopping = true;
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    if (this.text.trim()) renderMarkdown(this.content, this.text);
    else clear(this.content);
  }

  finish(text: string, usage: Usage | null | undefined): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.text = text;
    this.el.dataset.status = "complete";
    if (text.trim()) renderMarkdown(this.content, text);
    else this.content.replaceChildren(h("p", { class: "muted" }, "(no reply)"));
    const bits: string[] = [];
    if (usage) {
      if (usage.completion_tokens != null) bits.push(`${usage.completion_tokens} tokens`);
      if (usage.total_ms != null) bits.push(`${(usage.total_ms / 1000).toFixed(1)} s`);
      if (usage.ttft_ms != null) bits.push(`first token ${Math.round(usage.ttft_ms)} ms`);
      if (usage.finish_reason === "length") bits.push("cut off at the length limit");
      if (usage.model) bits.push(usage.model);
    }
    this.meta.textContent = bits.join(" · ");
    this.meta.hidden = !bits.length;
    this.refreshActions();
    this.hooks.onGrow();
  }

  fail(message: string): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.el.dataset.status = "failed";
    if (this.text.trim()) renderMarkdown(this.content, this.text);
    else clear(this.content);
    this.content.append(h("div", { class: "inline-error", role: "alert" }, icon(ALERT_ICON, 16), h("span", null, message)));
    this.refreshActions();
    this.hooks.onGrow();
  }

  /** Stopped by the user: what had come so far stays, with a muted label. */
  cancel(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.el.dataset.status = "cancelled";
    if (this.text.trim()) renderMarkdown(this.content, this.text);
    else clear(this.content);
    this.stopped.hidden = false;
    this.refreshActions();
    this.hooks.onGrow();
  }

  /** The newest reply of the branch shown gets Regenerate and always-visible actions. */
  setLast(last: boolean): void {
    this.last = last;
    this.regen.disabled = false;
    this.el.classList.toggle("last", last);
    this.refreshActions();
  }

  setFeedback(feedback: Feedback | null | undefined): void {
    this.rating = feedback?.rating === 1 || feedback?.rating === -1 ? feedback.rating : 0;
    this.thumbUp.classList.toggle("active", this.rating === 1);
    this.thumbDown.classList.toggle("active", this.rating === -1);
    this.thumbUp.setAttribute("aria-pressed", String(this.rating === 1));
    this.thumbDown.setAttribute("aria-pressed", String(this.rating === -1));
    this.el.classList.toggle("has-feedback", this.rating !== 0);
  }

  openComment(current: string): void {
    this.comment.value = current;
    this.feedbackBox.hidden = false;
    this.comment.focus();
    this.hooks.onGrow();
  }

  closeComment(): void {
    this.feedbackBox.hidden = true;
  }

  setRegenerating(busy: boolean): void {
    this.regen.disabled = busy;
  }

  private refreshActions(): void {
    const status = this.status;
    const done = status === "complete";
    this.actions.hidden = status === "streaming";
    this.copy.hidden = !this.text.trim();
    this.thumbUp.hidden = this.thumbDown.hidden = !done;
    this.regen.hidden = !this.last || status === "streaming";
    if (!done) this.closeComment();
  }
}

/** One user message on screen; Edit turns it into an inline editor. */
class UserView {
  readonly el: HTMLElement;
  readonly branchSlot: HTMLElement;
  private bubble: HTMLElement;
  private note: HTMLElement;
  private tools: HTMLElement;
  private editBtn: HTMLButtonElement;
  private editor: HTMLElement | null = null;

  constructor(
    public text: string,
    clientMsgId: string | null,
    private onSave: (view: UserView, text: string) => void,
    public attachments: Attachment[] = [],
  ) {
    this.bubble = h("div", { class: "bubble" });
    this.bubble.textContent = text; // never HTML
    this.note = h("div", { class: "msg-note", hidden: true });
    this.branchSlot = h("span", { class: "branch-slot" });
    this.editBtn = h(
      "button",
      { type: "button", class: "btn-copy icon-only edit", title: "Edit message", "aria-label": "Edit message", hidden: true, onclick: () => this.startEdit() },
      icon(ICONS.edit, 14),
    );
    this.branchSlot.classList.add("msg-tools");
    this.tools = this.editBtn;
    const files = attachments.length ? attachmentList(attachments) : null;
    this.el = h("div", { class: "msg user", "data-status": "complete", "data-client-msg-id": clientMsgId }, this.editBtn, files, this.bubble, this.note, this.branchSlot);
  }

  setNote(text: string, kind: "queued" | "failed" | "" = ""): void {
    this.note.textContent = text;
    this.note.className = `msg-note ${kind}`;
    this.note.hidden = !text;
  }

  setEditable(editable: boolean): void {
    this.editBtn.hidden = !editable;
    if (!editable && this.editor) this.cancelEdit();
  }

  get editing(): boolean {
    return this.editor !== null;
  }

  startEdit(): void {
    if (this.editor) return;
    const input = h("textarea", { class: "edit-input", rows: 1, "aria-label": "Edit your message" });
    input.value = this.text;
    const size = () => {
      input.style.height = "auto";
      input.style.height = `${Math.min(input.scrollHeight, 300)}px`;
    };
    const save = () => {
      const text = input.value.trim();
      if (!text || text === this.text.trim()) return this.cancelEdit();
      this.cancelEdit();
      this.onSave(this, text);
    };
    input.addEventListener("input", size);
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
        ev.preventDefault();
        save();
      } else if (ev.key === "Escape") {
        ev.preventDefault();
        ev.stopPropagation();
        this.cancelEdit();
      }
    });
    this.editor = h(
      "div",
      { class: "msg-editor" },
      input,
      h(
        "div",
        { class: "edit-actions" },
        h("button", { type: "button", class: "btn small edit-cancel", onclick: () => this.cancelEdit() }, "Cancel"),
        h("button", { type: "button", class: "btn small primary edit-save", onclick: save }, "Save"),
      ),
    );
    this.el.classList.add("editing");
    this.bubble.hidden = this.tools.hidden = this.branchSlot.hidden = true;
    this.el.append(this.editor);
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
    requestAnimationFrame(size);
  }

  cancelEdit(): void {
    this.editor?.remove();
    this.editor = null;
    this.el.classList.remove("editing");
    this.bubble.hidden = this.tools.hidden = this.branchSlot.hidden = false;
  }
}

function botForName(name: string | null | undefined): Bot | undefined {
  return store.botByName(name);
}

const CONN_LABEL: Record<ConnState, string> = { open: "Connected", connecting: "Connecting…", closed: "Offline" };

export function renderChat(main: HTMLElement, initialId: string | null): () => void {
  let conversationId = initialId;
  let conversationBotId: string | null = null;
  let selectedBotId: string | null = store.nextBotId;
  store.nextBotId = null;
  const mine = new Set<string>(); // client_msg_ids sent from this page
  /** client_msg_id → what a control frame was, so its errors are told apart. */
  const controls = new Map<string, ControlFrame["type"]>();
  const early = new Map<string, ServerFrame[]>(); // frames for a reply before its turn is known
  let disposed = false;

  // The whole tree, client-side; one branch (root → leafId) is shown.
  const turns = new Map<string, Turn>();
  const views = new Map<string, Reply | UserView>();
  let leafId: string | null = null;
  /** The newest turn as the server sees it: where its next message goes. */
  let serverLeaf: string | null = null;
  let treeReady = !initialId;
  let localSeq = 1_000_000;
  /** Messages typed here and sent, not yet accepted (or answered with a notice / error). */
  const pendingSends = new Map<string, UserView>();
  /** Notices, errors and pending messages, shown after the turn that was newest when they came. */
  const loose: { el: HTMLElement; after: string | null; sticky?: boolean; key?: string }[] = [];

  // ---- top bar -------------------------------------------------------------------------
  const titleBox = h("div", { class: "chat-heading" });
  const conn = h("div", { id: "conn", class: "conn", "data-state": socket.state, role: "status", title: "" }, h("span", { class: "dot" }), h("span", { class: "conn-label" }, CONN_LABEL[socket.state]));
  conn.addEventListener("click", () => socket.retryNow());
  const setTitle = (title: string, bot: Bot | undefined, fallbackName?: string) => {
    const name = bot?.name ?? fallbackName ?? "";
    titleBox.replaceChildren(
      name ? avatar(bot?.avatar_url, name, 24) : "",
      h("div", { class: "chat-heading-text" }, h("div", { class: "chat-title" }, title), name && title !== name ? h("div", { class: "chat-sub muted" }, name) : ""),
    );
  };

  // ---- transcript ----------------------------------------------------------------------
  const transcript = h("div", { id: "transcript", class: "transcript", role: "log", "aria-live": "polite" });
  const scroller = h("div", { class: "chat-scroll" }, transcript);
  const jump = h("button", { type: "button", class: "jump-bottom", hidden: true, "aria-label": "Scroll to the newest message", onclick: () => scrollToBottom(true) }, icon(["M12 5v14", "M19 12l-7 7-7-7"]));
  let stick = true;
  scroller.addEventListener("scroll", () => {
    stick = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
    jump.hidden = stick;
  });
  const scrollToBottom = (force = false) => {
    if (force || stick) {
      scroller.scrollTop = scroller.scrollHeight;
      stick = true;
      jump.hidden = true;
    }
  };
  const grow = () => scrollToBottom();

  const addLoose = (el: HTMLElement, extra: { sticky?: boolean; key?: string } = {}) => {
    loose.push({ el, after: leafId, ...extra });
    render();
  };
  const dropLoose = (key: string) => {
    const i = loose.findIndex((l) => l.key === key);
    if (i >= 0) loose.splice(i, 1);
  };

  const addNotice = (text: string, kind: string, extra?: Node) => {
    const el = h("div", { class: "notice", "data-kind": kind }, h("span", { class: "notice-badge" }, "Confab"), h("div", { class: "notice-body" }, h("span", null, text), extra ?? null));
    addLoose(el);
    scrollToBottom(true);
    return el;
  };

  const addError = (message: string) => {
    const el = h("div", { class: "inline-error standalone", role: "alert" }, icon(ALERT_ICON, 16), h("span", null, message));
    addLoose(el);
    scrollToBottom(true);
  };

  const replyBot = (text?: string): Bot | undefined => {
    const mention = text ? /(?:^|\s)@([\w-]+)/.exec(text) : null;
    const byMention = mention ? store.botByHandle(mention[1]) : undefined;
    const slash = text ? /^\/bot\s+@?([\w-]+)\s+\S/.exec(text) : null;
    const bySlash = slash ? store.botByHandle(slash[1]) ?? store.bots.find((b) => b.name.toLowerCase() === slash[1].toLowerCase()) : undefined;
    return byMention ?? bySlash ?? store.bot(conversationBotId) ?? store.bot(selectedBotId) ?? store.defaultBot();
  };

  // ---- the tree ------------------------------------------------------------------------------
  const bySeq = (a: Turn, b: Turn) => a.seq - b.seq;
  const childrenOf = (id: string | null) => Array.from(turns.values()).filter((t) => t.parent_id === id).sort(bySeq);
  /** Other versions of a turn: same parent, same role (regenerated replies, edited messages). */
  const siblingsOf = (t: Turn) => childrenOf(t.parent_id).filter((s) => s.role === t.role);
  /** A turn and below it, at each step, its latest child. */
  const newestBelow = (id: string): string => {
    let current = id;
    const seen = new Set<string>();
    for (;;) {
      seen.add(current);
      const kids = childrenOf(current);
      const next = kids[kids.length - 1];
      if (!next || seen.has(next.id)) return current;
      current = next.id;
    }
  };
  const pathTo = (leaf: string | null): Turn[] => {
    const path: Turn[] = [];
    const seen = new Set<string>();
    let t = leaf ? turns.get(leaf) : undefined;
    while (t && !seen.has(t.id)) {
      seen.add(t.id);
      path.push(t);
      t = t.parent_id ? turns.get(t.parent_id) : undefined;
    }
    return path.reverse();
  };
  const pendingReplies = () => Array.from(turns.values()).filter((t) => t.role === "assistant" && t.status === "pending");

  const fromServer = (m: TranscriptMessage, seq: number, parent: string | null): Turn => ({
    id: m.id,
    role: m.role,
    text: m.text,
    status: m.status,
    parent_id: parent,
    seq,
    usage: m.usage,
    error: m.error,
    bot_name: m.bot_name,
    feedback: m.feedback ?? null,
    attachments: m.attachments ?? null,
  });

  /** Show a reply's turn as it stands now. */
  const syncReply = (reply: Reply, t: Turn) => {
    if (t.status === "complete") reply.finish(t.text, t.usage);
    else if (t.status === "failed") {
      reply.text = t.text;
      reply.fail(t.error || "This reply failed.");
    } else if (t.status === "cancelled") {
      reply.text = reply.text || t.text;
      reply.cancel();
    } else if (t.text && !reply.text) reply.append(t.text);
  };

  const replyHooks: ReplyHooks = {
    onGrow: grow,
    onThumb: (reply, rating) => giveFeedback(reply, rating),
    onComment: (reply, comment) => sendComment(reply, comment),
    onRegenerate: (reply) => regenerate(reply),
  };

  const viewFor = (t: Turn): Reply | UserView => {
    let view = views.get(t.id);
    if (view) return view;
    if (t.role === "user") {
      view = new UserView(t.text, null, (v, text) => editMessage(v, text), t.attachments ?? []);
    } else {
      const bot = botForName(t.bot_name) ?? store.bot(conversationBotId);
      const name = t.bot_name ?? bot?.name ?? "Assistant";
      view = new Reply(t.id, name, bot?.avatar_url ?? botForName(name)?.avatar_url, replyHooks);
      syncReply(view, t);
    }
    if (t.role === "user") view.el.dataset.messageId = t.id;
    view.el.dataset.turnId = t.id;
    views.set(t.id, view);
    return view;
  };

  const switcher = (t: Turn): HTMLElement | null => {
    const sibs = siblingsOf(t);
    if (sibs.length < 2) return null;
    const i = sibs.findIndex((s) => s.id === t.id);
    const go = (j: number) => {
      const target = sibs[j];
      if (!target) return;
      leafId = newestBelow(target.id);
      render();
    };
    const what = t.role === "user" ? "message" : "reply";
    return h(
      "span",
      { class: "branch", role: "group", "aria-label": `Versions of this ${what}` },
      h("button", { type: "button", class: "branch-prev", "aria-label": `Previous version of this ${what}`, disabled: i <= 0, onclick: () => go(i - 1) }, icon(ICONS.chevronLeft, 14)),
      h("span", { class: "branch-count" }, `${i + 1}/${sibs.length}`),
      h("button", { type: "button", class: "branch-next", "aria-label": `Next version of this ${what}`, disabled: i >= sibs.length - 1, onclick: () => go(i + 1) }, icon(ICONS.chevronRight, 14)),
    );
  };

  /** Lay out the branch shown: the turns root → leaf, with notices where they came. */
  const render = () => {
    if (disposed || !treeReady) return;
    const path = pathTo(leafId);
    const onPath = new Set(path.map((t) => t.id));
    const els: HTMLElement[] = [];
    if (intro) els.push(intro);
    const looseAfter = (id: string | null) => {
      for (const l of loose) if (l.after === id) els.push(l.el);
    };
    looseAfter(null);
    path.forEach((t, i) => {
      const view = viewFor(t);
      const sw = switcher(t);
      if (sw) view.branchSlot.replaceChildren(sw);
      else clear(view.branchSlot);
      if (view instanceof Reply) {
        view.setLast(i === path.length - 1);
        view.setFeedback(t.feedback);
      } else {
        view.setEditable(!t.local && !!conversationId);
        view.setNote(t.local ? "Sending…" : "");
      }
      els.push(view.el);
      looseAfter(t.id);
    });
    // Messages still on their way whose turn is on another branch go last.
    for (const l of loose) if (l.after !== null && !onPath.has(l.after) && l.sticky) els.push(l.el);
    const same = els.length === transcript.children.length && els.every((el, i) => transcript.children[i] === el);
    if (!same) transcript.replaceChildren(...els);
    updateComposer();
    scrollToBottom();
  };

  /** A local turn now has its server id. */
  const rekey = (from: string, to: string) => {
    const t = turns.get(from);
    if (!t || from === to) return;
    turns.delete(from);
    t.id = to;
    t.local = false;
    turns.set(to, t);
    for (const c of turns.values()) if (c.parent_id === from) c.parent_id = to;
    if (leafId === from) leafId = to;
    for (const l of loose) if (l.after === from) l.after = to;
    const view = views.get(from);
    if (view) {
      views.delete(from);
      views.set(to, view);
      view.el.dataset.messageId = to;
      view.el.dataset.turnId = to;
    }
  };

  /** Take in a transcript from the server: new turns added, finished ones shown finished. */
  const merge = (t: Transcript) => {
    const ms = t.messages;
    ms.forEach((m, i) => {
      // Servers from before branching had no parent_id: each turn followed the one before.
      const parent = m.parent_id === undefined ? (i ? ms[i - 1].id : null) : m.parent_id;
      const known = turns.get(m.id);
      if (!known) {
        turns.set(m.id, fromServer(m, i, parent));
        return;
      }
      known.seq = i;
      known.parent_id = parent;
      if (m.bot_name) known.bot_name = m.bot_name;
      if (m.feedback !== undefined) known.feedback = m.feedback ?? null;
      const view = views.get(m.id);
      if (view instanceof Reply && m.bot_name) view.setBot(m.bot_name, botForName(m.bot_name)?.avatar_url);
      if (known.role === "assistant" && known.status === "pending" && m.status !== "pending") {
        Object.assign(known, { status: m.status, text: m.text, usage: m.usage, error: m.error });
        if (view instanceof Reply) syncReply(view, known);
      }
    });
    const newest = ms.length ? ms[ms.length - 1].id : null;
    serverLeaf = t.leaf_id === undefined ? newest : t.leaf_id;
    if (!leafId || !turns.has(leafId)) leafId = serverLeaf ?? newest;
  };

  const flushEarly = () => {
    for (const [responseId, frames] of Array.from(early)) {
      if (!turns.has(responseId)) continue;
      early.delete(responseId);
      for (const f of frames) handleFrame(f);
    }
  };

  let refreshing: Promise<void> | null = null;
  let refreshAgain = false;
  /** Bring the tree up to date from the stored transcript (after a reconnect, a reply, an unknown reply). */
  const refresh = async (): Promise<void> => {
    if (!conversationId || disposed) return;
    if (refreshing) {
      refreshAgain = true;
      return refreshing;
    }
    const id = conversationId;
    refreshing = (async () => {
      try {
        const t = await api.conversation(id);
        if (disposed || id !== conversationId) return;
        conversationBotId = t.bot_id;
        setTitle(t.title || "Chat", store.bot(t.bot_id));
        merge(t);
        treeReady = true;
        render();
        flushEarly();
      } catch {
        /* the next frame or reconnect will tell */
      }
    })();
    try {
      await refreshing;
    } finally {
      refreshing = null;
    }
    if (refreshAgain) {
      refreshAgain = false;
      await refresh();
    }
  };
  let refreshTimer: number | undefined;
  const refreshSoon = () => {
    window.clearTimeout(refreshTimer);
    refreshTimer = window.setTimeout(() => void refresh(), 250);
  };

  /** Send a control frame now; say so when not connected. */
  const control = (frame: ControlFrame, quiet = false): boolean => {
    const id = uuid();
    frame.client_msg_id = id;
    controls.set(id, frame.type);
    mine.add(id);
    const sent = socket.sendNow(frame);
    if (!sent && !quiet) toast("Not connected — try again in a moment.", "error");
    return sent;
  };

  const watch = () => {
    if (conversationId && socket.state === "open") control({ type: "watch", conversation_id: conversationId }, true);
  };

  // ---- stop, regenerate, edit, feedback -------------------------------------------------------
  const stopAll = () => {
    if (!conversationId) return;
    for (const t of pendingReplies()) {
      if (control({ type: "stop", conversation_id: conversationId, response_id: t.id })) {
        const view = views.get(t.id);
        if (view instanceof Reply) view.freeze();
      }
    }
  };

  const regenerate = (reply: Reply) => {
    const t = turns.get(reply.id);
    if (!conversationId || !t?.parent_id) return;
    if (control({ type: "regenerate", conversation_id: conversationId, message_id: t.parent_id })) reply.setRegenerating(true);
  };

  const editMessage = (view: UserView, text: string) => {
    const original = Array.from(turns.values()).find((t) => views.get(t.id) === view);
    if (!conversationId || !original || original.local) return;
    const clientMsgId = uuid();
    mine.add(clientMsgId);
    const id = `local:${clientMsgId}`;
    const turn: Turn = { id, role: "user", text, status: "complete", parent_id: original.parent_id, seq: localSeq++, local: true };
    turns.set(id, turn);
    leafId = id;
    const frame: EditFrame = { type: "edit", conversation_id: conversationId, message_id: original.id, client_msg_id: clientMsgId, text };
    socket.send(frame);
    render();
    scrollToBottom(true);
  };

  let quietFeedback = 0;
  const giveFeedback = (reply: Reply, rating: 1 | -1) => {
    const t = turns.get(reply.id);
    if (!conversationId || !t) return;
    if (t.feedback?.rating === rating) {
      reply.openComment(t.feedback.comment ?? "");
      return;
    }
    if (!control({ type: "feedback", conversation_id: conversationId, response_id: t.id, rating, comment: "" })) return;
    quietFeedback += 1; // the active thumb says it; a comment gets a thank-you
    t.feedback = { rating, comment: "" };
    reply.setFeedback(t.feedback);
    reply.openComment("");
  };

  const sendComment = (reply: Reply, comment: string) => {
    const t = turns.get(reply.id);
    if (!conversationId || !t?.feedback) return reply.closeComment();
    const rating = t.feedback.rating;
    if (comment === (t.feedback.comment ?? "")) return reply.closeComment();
    if (!control({ type: "feedback", conversation_id: conversationId, response_id: t.id, rating, comment })) return;
    t.feedback = { rating, comment };
    reply.closeComment();
  };

  // ---- new chat: bot picker + greeting ---------------------------------------------------
  let intro: HTMLElement | null = null;
  const renderIntro = () => {
    const bots = store.bots;
    const chosen = store.bot(selectedBotId) ?? store.defaultBot();
    selectedBotId = chosen?.id ?? null;
    const picker = h(
      "div",
      { class: "bot-picker", role: "radiogroup", "aria-label": "Choose a bot" },
      bots.map((b) =>
        h(
          "button",
          {
            type: "button",
            class: "bot-option",
            role: "radio",
            "aria-checked": b.id === selectedBotId ? "true" : "false",
            "data-bot-id": b.id,
            onclick: () => {
              selectedBotId = b.id;
              renderIntro();
              composer.focus();
            },
          },
          avatar(b.avatar_url, b.name, 40),
          h("span", { class: "bot-option-text" }, h("span", { class: "bot-option-name" }, b.name), h("span", { class: "bot-option-desc" }, b.description || "No description.")),
        ),
      ),
    );
    const greeting = h("div", { class: "greeting" });
    if (chosen) {
      const body = h("div", { class: "msg-content markdown" });
      renderMarkdown(body, chosen.greeting || `Hi! I'm ${chosen.name}. How can I help?`);
      greeting.append(h("div", { class: "msg-avatar" }, avatar(chosen.avatar_url, chosen.name, 30)), h("div", { class: "msg-body" }, h("div", { class: "msg-author" }, chosen.name), body));
    }
    const next = h(
      "div",
      { class: "new-chat-intro" },
      h("h1", { class: "intro-title" }, "What's on your mind today?"),
      bots.length ? h("p", { class: "muted intro-sub" }, "Pick who you'd like to talk to:") : h("p", { class: "muted" }, "Loading bots…"),
      picker,
      greeting,
    );
    if (intro) intro.replaceWith(next);
    else transcript.prepend(next);
    intro = next;
    setTitle("New chat", chosen);
  };
  const dropPicker = () => {
    intro?.querySelector(".bot-picker")?.remove();
    intro?.querySelector(".intro-title")?.remove();
    intro?.querySelector(".intro-sub")?.remove();
  };

  // ---- loading a conversation ---------------------------------------------------------------
  const load = async (id: string) => {
    transcript.replaceChildren(h("div", { class: "loading" }, h("div", { class: "spinner" }), "Loading conversation…"));
    try {
      await store.loadBots().catch(() => []);
      const t = await api.conversation(id);
      if (disposed) return;
      conversationBotId = t.bot_id;
      setTitle(t.title || "Chat", store.bot(t.bot_id));
      clear(transcript);
      treeReady = true;
      if (!t.messages.length) loose.push({ el: h("div", { class: "notice", "data-kind": "info" }, h("span", { class: "notice-badge" }, "Confab"), h("div", { class: "notice-body" }, h("span", null, "This conversation is empty."))), after: null });
      merge(t);
      render();
      flushEarly();
      scrollToBottom(true);
      focusTurnFromHash(transcript);
      // Replies still being written stream here from now on (no polling).
      if (pendingReplies().length) watch();
    } catch (err) {
      if (disposed) return;
      treeReady = false;
      clear(transcript);
      setTitle("Chat", undefined);
      composerWrap.hidden = true;
      const notFound = err instanceof ApiError && (err.status === 404 || err.status === 400 || err.status === 403);
      transcript.append(
        h(
          "div",
          { class: "empty-state" },
          h("h2", null, notFound ? "Conversation not found" : "Couldn't load this conversation"),
          h("p", { class: "muted" }, notFound ? "It may have been removed, or it belongs to someone else." : errorMessage(err)),
          h("a", { class: "btn primary", href: "#/chat" }, "Start a new chat"),
        ),
      );
    }
  };

  // ---- socket frames ---------------------------------------------------------------------
  const keep = (frame: ServerFrame & { response_id: string }) => {
    const list = early.get(frame.response_id) ?? [];
    list.push(frame);
    early.set(frame.response_id, list);
  };

  const onAccepted = (frame: Extract<ServerFrame, { type: "accepted" }>) => {
    const ours = mine.has(frame.client_msg_id);
    if (!conversationId) {
      if (!ours) return;
      conversationId = frame.conversation_id;
      conversationBotId = selectedBotId;
      treeReady = true;
      history.replaceState(null, "", `#/chat/${conversationId}`);
      window.dispatchEvent(new CustomEvent("confab:route-changed", { detail: `/chat/${conversationId}` }));
    }
    if (frame.conversation_id !== conversationId) return;
    void store.loadConversations().catch(() => undefined);
    const parentGuess = serverLeaf;
    serverLeaf = frame.response_id;
    if (turns.has(frame.response_id)) {
      flushEarly();
      return; // a resend answered again
    }
    const pending = pendingSends.get(frame.client_msg_id);
    const localId = `local:${frame.client_msg_id}`;
    let text = "";
    if (turns.has(localId)) {
      // An edit: its sibling turn now has its id.
      rekey(localId, frame.message_id);
      text = turns.get(frame.message_id)?.text ?? "";
    } else if (pending) {
      pendingSends.delete(frame.client_msg_id);
      dropLoose(frame.client_msg_id);
      pending.setNote("");
      pending.el.removeAttribute("data-client-msg-id");
      text = pending.text;
      if (!turns.has(frame.message_id)) {
        // The server puts a new message after its newest turn.
        turns.set(frame.message_id, { id: frame.message_id, role: "user", text, status: "complete", parent_id: parentGuess, seq: localSeq++, attachments: pending.attachments });
        pending.el.dataset.messageId = frame.message_id;
        views.set(frame.message_id, pending);
      }
    } else if (turns.has(frame.message_id)) {
      // A regenerate: another reply to a message we know.
      text = turns.get(frame.message_id)!.text;
    } else {
      refreshSoon(); // sent from an earlier page: the transcript knows
      return;
    }
    turns.set(frame.response_id, {
      id: frame.response_id,
      role: "assistant",
      text: "",
      status: "pending",
      parent_id: frame.message_id,
      seq: localSeq++,
      bot_name: replyBot(text)?.name ?? null,
    });
    leafId = frame.response_id;
    render();
    scrollToBottom(true);
    flushEarly();
    // Where the server put it is the truth (it may differ from the branch shown).
    if (pending && parentGuess !== null) refreshSoon();
  };

  const handleFrame = (frame: ServerFrame) => {
    if (disposed) return;
    switch (frame.type) {
      case "accepted":
        onAccepted(frame);
        return;
      case "title":
        // The model named the chat after its first reply (or it was renamed elsewhere).
        if (frame.conversation_id === conversationId) setTitle(frame.title, store.bot(conversationBotId));
        void store.loadConversations().catch(() => undefined);
        return;
      case "delta":
      case "message":
      case "cancelled": {
        if (frame.conversation_id !== conversationId) {
          if (!conversationId && mine.size) keep(frame);
          else if (frame.type !== "delta") void store.loadConversations().catch(() => undefined);
          return;
        }
        const t = turns.get(frame.response_id);
        const view = t ? views.get(t.id) : undefined;
        if (!t) {
          keep(frame);
          if (treeReady && !pendingSends.size) refreshSoon();
          return;
        }
        if (t.status !== "pending") return;
        if (frame.type === "delta") {
          if (view instanceof Reply) view.append(frame.text);
          else t.text += frame.text;
          return;
        }
        if (frame.type === "message") {
          Object.assign(t, { status: "complete", text: frame.text, usage: frame.usage });
          if (view instanceof Reply) view.finish(frame.text, frame.usage);
          void refresh();
          void store.loadConversations().catch(() => undefined);
        } else {
          t.status = "cancelled";
          if (view instanceof Reply) {
            t.text = view.text;
            view.cancel();
          }
        }
        render();
        return;
      }
      case "notice": {
        if (frame.client_msg_id && !mine.has(frame.client_msg_id)) return;
        if (frame.client_msg_id) {
          const pending = pendingSends.get(frame.client_msg_id);
          if (pending) {
            pendingSends.delete(frame.client_msg_id);
            pending.setNote("");
          }
        }
        handleNotice(frame);
        return;
      }
      case "error": {
        if (frame.client_msg_id && !mine.has(frame.client_msg_id)) return;
        if (!frame.client_msg_id && frame.conversation_id && frame.conversation_id !== conversationId) return;
        const t = frame.response_id ? turns.get(frame.response_id) : undefined;
        if (t && t.role === "assistant") {
          Object.assign(t, { status: "failed", error: frame.message });
          const view = views.get(t.id);
          if (view instanceof Reply) view.fail(frame.message);
          render();
          return;
        }
        const cid = frame.client_msg_id;
        const kind = cid ? controls.get(cid) : undefined;
        if (kind) {
          // A stop that came too late, or a watch of a chat that is gone, needs no words.
          if (kind === "stop" || kind === "watch") return;
          toast(frame.message, "error");
          render(); // re-enables Regenerate
          return;
        }
        if (cid && turns.has(`local:${cid}`)) {
          // A refused edit: back to the message it was to replace.
          const local = turns.get(`local:${cid}`)!;
          turns.delete(local.id);
          views.delete(local.id);
          const sibs = childrenOf(local.parent_id).filter((s) => s.role === "user");
          leafId = sibs.length ? newestBelow(sibs[sibs.length - 1].id) : serverLeaf;
          render();
          toast(frame.message, "error");
          return;
        }
        const pending = cid ? pendingSends.get(cid) : undefined;
        if (pending) {
          pendingSends.delete(cid!);
          pending.el.dataset.status = "failed";
          pending.setNote("Failed", "failed");
        }
        addError(frame.message);
        return;
      }
    }
  };

  const handleNotice = (frame: Extract<ServerFrame, { type: "notice" }>) => {
    if (frame.kind === "watch") return;
    if (frame.kind === "feedback") {
      if (quietFeedback > 0) quietFeedback -= 1;
      else toast(frame.text || "Thanks for the feedback.", "success");
      return;
    }
    if (frame.kind === "new") {
      store.nextBotId = conversationBotId ?? selectedBotId;
      location.hash = "#/chat";
      if (!conversationId) window.dispatchEvent(new HashChangeEvent("hashchange"));
      return;
    }
    if (frame.kind === "bot" && frame.bot_id) {
      const bot = store.bot(frame.bot_id);
      if (!conversationId && !frame.conversation_id) {
        selectedBotId = frame.bot_id;
        if (intro) renderIntro();
      } else {
        conversationBotId = frame.bot_id;
        setTitle(titleBox.querySelector(".chat-title")?.textContent ?? "Chat", bot);
      }
      addNotice(frame.text, "bot");
      return;
    }
    if (frame.kind === "search") {
      const results = frame.results ?? [];
      const list = results.length
        ? h(
            "ul",
            { class: "search-results" },
            results.map((r) => h("li", null, h("a", { href: hitHref(r.conversation_id, r.message_id) }, snippetNode(r.snippet)))),
          )
        : null;
      addNotice(frame.text, "search", list ?? undefined);
      return;
    }
    addNotice(frame.text, frame.kind || "info");
  };

  // ---- composer ------------------------------------------------------------------------------
  const composer = h("textarea", {
    id: "composer",
    rows: 1,
    placeholder: "Message Confab…",
    "aria-label": "Message",
    autocomplete: "off",
  });
  const send = h("button", { id: "send", type: "submit", class: "send-btn", "aria-label": "Send message", title: "Send (Enter)" }, icon(ICONS.send, 18));
  const popup = h("div", { class: "mention-popup", role: "listbox", hidden: true });
  const stop = h(
    "button",
    { id: "stop", type: "button", class: "send-btn stop-btn", hidden: true, "aria-label": "Stop the reply", title: "Stop (Esc)", onclick: () => stopAll() },
    h("span", { class: "stop-square", "aria-hidden": "true" }),
  );
  const tray = new AttachmentTray(() => undefined);
  const form = h("form", { class: "composer" }, popup, tray.button, tray.input, composer, send, stop);
  send.classList.add("empty");
  const composerWrap = h("div", { class: "composer-wrap" });
  const hint = h("p", { class: "composer-hint" }, "Enter to send · Shift+Enter for a new line · @ to ask another bot · /help for commands");

  const autosize = () => {
    composer.style.height = "auto";
    composer.style.height = `${Math.min(composer.scrollHeight, 220)}px`;
    send.classList.toggle("empty", !composer.value.trim());
  };

  // @handle autocomplete
  let matches: Bot[] = [];
  let active = 0;
  let mentionStart = -1;
  const closePopup = () => {
    popup.hidden = true;
    matches = [];
    mentionStart = -1;
  };
  const renderPopup = () => {
    clear(popup);
    matches.forEach((b, i) => {
      const item = h(
        "div",
        { class: `mention-item${i === active ? " active" : ""}`, role: "option", "aria-selected": i === active ? "true" : "false" },
        avatar(b.avatar_url, b.name, 24),
        h("span", { class: "mention-handle" }, `@${b.handle}`),
        h("span", { class: "mention-name muted" }, b.name),
      );
      item.addEventListener("mousedown", (ev) => {
        ev.preventDefault();
        pick(i);
      });
      popup.append(item);
    });
    popup.hidden = !matches.length;
  };
  const updatePopup = () => {
    const upto = composer.value.slice(0, composer.selectionStart ?? composer.value.length);
    const m = /(^|\s)@([\w-]*)$/.exec(upto);
    if (!m) return closePopup();
    const q = m[2].toLowerCase();
    mentionStart = upto.length - m[2].length - 1;
    matches = store.bots.filter((b) => b.handle.toLowerCase().startsWith(q) || b.name.toLowerCase().startsWith(q)).slice(0, 6);
    active = 0;
    renderPopup();
  };
  const pick = (i: number) => {
    const b = matches[i];
    if (!b || mentionStart < 0) return;
    const caret = composer.selectionStart ?? composer.value.length;
    const before = composer.value.slice(0, mentionStart);
    const after = composer.value.slice(caret);
    const insert = `@${b.handle} `;
    composer.value = before + insert + after;
    const pos = before.length + insert.length;
    composer.setSelectionRange(pos, pos);
    closePopup();
    autosize();
    composer.focus();
  };

  composer.addEventListener("input", () => {
    autosize();
    updatePopup();
  });
  composer.addEventListener("click", updatePopup);
  composer.addEventListener("blur", () => setTimeout(closePopup, 100));
  composer.addEventListener("keydown", (ev) => {
    if (!popup.hidden && matches.length) {
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        ev.preventDefault();
        active = (active + (ev.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
        renderPopup();
        return;
      }
      if (ev.key === "Enter" || ev.key === "Tab") {
        ev.preventDefault();
        pick(active);
        return;
      }
      if (ev.key === "Escape") {
        ev.preventDefault();
        ev.stopPropagation();
        closePopup();
        return;
      }
    }
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
      ev.preventDefault();
      submit();
    }
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit();
  });

  const streaming = () => pendingReplies().length > 0;

  /** While a reply is being written, Stop takes Send's place. */
  const updateComposer = () => {
    const busy = !!conversationId && streaming();
    send.hidden = busy;
    stop.hidden = !busy;
  };

  const submit = () => {
    const text = composer.value.trim();
    if (!text) return;
    if (conversationId && streaming()) return; // Stop first (or wait)
    if (tray.busy) {
      toast("Wait a moment: the files are still uploading.", "info");
      return;
    }
    const files = tray.attachments;
    const clientMsgId = uuid();
    mine.add(clientMsgId);
    const frame: SendFrame = {
      type: "send",
      conversation_id: conversationId,
      client_msg_id: clientMsgId,
      text,
      bot_id: conversationId ? null : selectedBotId,
      parent_id: conversationId ? leafId : null,
      attachments: files.map((f) => f.id),
    };
    if (!conversationId && !text.startsWith("/")) dropPicker();
    const view = new UserView(text, clientMsgId, (v, t) => editMessage(v, t), files);
    tray.clear();
    pendingSends.set(clientMsgId, view);
    addLoose(view.el, { sticky: true, key: clientMsgId });
    socket.send(frame);
    if (socket.isQueued(clientMsgId)) view.setNote("Waiting for the connection — it will be sent automatically.", "queued");
    composer.value = "";
    autosize();
    closePopup();
    scrollToBottom(true);
  };

  composerWrap.append(jump, tray.el, form, hint);

  // Esc stops a reply being written (unless something else used the key: a popup, an editor,
  // a dialog, the phone sidebar).
  let sidebarWasOpen = false;
  const onKeyCapture = (ev: KeyboardEvent) => {
    if (ev.key === "Escape") sidebarWasOpen = !!document.querySelector(".shell.sidebar-open");
  };
  const onKey = (ev: KeyboardEvent) => {
    if (ev.key !== "Escape" || ev.defaultPrevented || sidebarWasOpen || disposed) return;
    if (document.querySelector(".modal-backdrop")) return;
    if (!conversationId || !streaming()) return;
    ev.preventDefault();
    stopAll();
  };
  window.addEventListener("keydown", onKeyCapture, true);
  window.addEventListener("keydown", onKey);

  const onRenamed = (ev: Event) => {
    const { id, title } = (ev as CustomEvent<{ id: string; title: string }>).detail;
    if (id === conversationId) setTitle(title, store.bot(conversationBotId));
  };
  window.addEventListener("confab:conversation-renamed", onRenamed);

  // ---- connection status ---------------------------------------------------------------------
  const offState = socket.onState((state, detail) => {
    conn.dataset.state = state;
    const label = conn.querySelector(".conn-label")!;
    label.textContent = state === "closed" && detail.retryInMs ? `Offline · retrying in ${Math.ceil(detail.retryInMs / 1000)} s` : CONN_LABEL[state];
    conn.title = state === "closed" ? "Click to reconnect now" : "";
    if (state === "open") {
      for (const el of Array.from(transcript.querySelectorAll<HTMLElement>(".msg-note.queued"))) {
        el.hidden = true;
        el.textContent = "";
      }
      // After every (re)connect: stream this conversation's replies in progress here again,
      // and catch up on what happened while away.
      watch();
      if (detail.reconnected && treeReady) void refresh();
    }
  });
  const offFrame = socket.onFrame(handleFrame);

  // ---- assemble --------------------------------------------------------------------------------
  const page = h("section", { class: "chat" }, topbar(titleBox, conn), scroller, composerWrap);
  tray.wire(page, composer);
  main.replaceChildren(page);

  if (conversationId) {
    void load(conversationId);
  } else {
    setTitle("New chat", undefined);
    renderIntro();
    render();
    store
      .loadBots()
      .then(() => {
        if (!disposed && !conversationId && intro?.querySelector(".bot-picker")) renderIntro();
      })
      .catch((err) => addError(`Couldn't load the bots: ${errorMessage(err)}`));
  }
  const offBots = store.on("bots", () => {
    if (!disposed && !conversationId && intro?.querySelector(".bot-picker")) renderIntro();
  });
  composer.focus();

  return () => {
    disposed = true;
    window.clearTimeout(refreshTimer);
    window.removeEventListener("keydown", onKeyCapture, true);
    window.removeEventListener("keydown", onKey);
    window.removeEventListener("confab:conversation-renamed", onRenamed);
    offFrame();
    offState();
    offBots();
  };
}
