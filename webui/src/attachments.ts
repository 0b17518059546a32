// Files on messages: the composer's tray (button, drag and drop, paste; uploads with progress),
// the attachments shown on a sent message (image thumbnails that open full size, document
// chips that download), and the full-size viewer.

import { ApiError, errorMessage, request } from "./api";
import { h, icon, ICONS, toast } from "./dom";

/** What a message records of a file (MessagePosted.attachments). */
export interface Attachment {
  id: string;
  name: string;
  media_type: string;
  kind: "image" | "text" | "pdf" | string;
  size: number;
  has_thumbnail?: boolean;
}

/** What POST /api/files answers. */
interface FileView {
  id: string;
  name: string;
  media_type: string;
  kind: string;
  size: number;
  url: string;
  thumbnail_url: string | null;
  text_chars: number;
}

export const MAX_FILES = 10;
const fileUrl = (id: string) => `/api/files/${encodeURIComponent(id)}`;

export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10240 ? 1 : 0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Files picked for the next message: uploaded at once, shown as chips, removable. */
export class AttachmentTray {
  readonly el: HTMLElement;
  readonly input: HTMLInputElement;
  readonly button: HTMLButtonElement;
  private ready = new Map<string, Attachment>();
  private uploading = 0;

  constructor(private onChange: () => void) {
    this.el = h("div", { class: "attach-tray", id: "attach-tray", hidden: true, "aria-live": "polite" });
    this.input = h("input", { type: "file", id: "attach-input", multiple: true, hidden: true, "aria-hidden": "true" });
    this.input.addEventListener("change", () => {
      if (this.input.files) this.add(Array.from(this.input.files));
      this.input.value = "";
    });
    this.button = h(
      "button",
      { type: "button", id: "attach", class: "attach-btn", title: "Attach files (images, text, PDF)", "aria-label": "Attach files", onclick: () => this.input.click() },
      icon(ICONS.paperclip, 18),
    );
  }

  get busy(): boolean {
    return this.uploading > 0;
  }

  get attachments(): Attachment[] {
    return [...this.ready.values()];
  }

  clear(): void {
    this.ready.clear();
    this.el.replaceChildren();
    this.el.hidden = true;
    this.onChange();
  }

  add(files: File[]): void {
    for (const file of files) {
      if (this.ready.size + this.uploading >= MAX_FILES) {
        toast(`A message can carry at most ${MAX_FILES} files.`, "error");
        return;
      }
      void this.upload(file);
    }
  }

  private async upload(file: File): Promise<void> {
    const chip = h("div", { class: "att-chip uploading", "data-name": file.name }, h("span", { class: "att-name" }, file.name), h("span", { class: "att-meta" }, "uploading…"));
    this.el.append(chip);
    this.el.hidden = false;
    this.uploading++;
    this.onChange();
    try {
      const body = new FormData();
      body.append("data", file, file.name);
      const view = await request<FileView>("POST", "/api/files", body);
      const item: Attachment = { id: view.id, name: view.name, media_type: view.media_type, kind: view.kind, size: view.size, has_thumbnail: !!view.thumbnail_url };
      this.ready.set(view.id, item);
      const remove = h(
        "button",
        { type: "button", class: "att-remove", "aria-label": `Remove ${view.name}`, title: "Remove", onclick: () => { this.ready.delete(view.id); chip.remove(); this.el.hidden = !this.el.children.length; this.onChange(); } },
        icon(ICONS.close, 12),
      );
      chip.replaceChildren(...attachmentPreview(item), remove);
      chip.classList.remove("uploading");
      chip.dataset.fileId = view.id;
    } catch (err) {
      chip.remove();
      this.el.hidden = !this.el.children.length;
      const why = err instanceof ApiError && err.status === 413 ? "it is too large" : errorMessage(err);
      toast(`Couldn't attach ${file.name}: ${why}`, "error");
    } finally {
      this.uploading--;
      this.onChange();
    }
  }

  /** Drag and drop onto `zone`, and pasting files into `field`. */
  wire(zone: HTMLElement, field: HTMLElement): void {
    zone.addEventListener("dragover", (ev) => {
      if (!ev.dataTransfer?.types.includes("Files")) return;
      ev.preventDefault();
      zone.classList.add("drop-target");
    });
    zone.addEventListener("dragleave", (ev) => {
      if (ev.target === zone) zone.classList.remove("drop-target");
    });
    zone.addEventListener("drop", (ev) => {
      zone.classList.remove("drop-target");
      const files = ev.dataTransfer?.files;
      if (!files?.length) return;
      ev.preventDefault();
      this.add(Array.from(files));
    });
    field.addEventListener("paste", (ev) => {
      const files = (ev as ClipboardEvent).clipboardData?.files;
      if (!files?.length) return;
      ev.preventDefault();
      this.add(Array.from(files));
    });
  }
}

function attachmentPreview(a: Attachment): HTMLElement[] {
  if (a.kind === "image" && a.has_thumbnail) {
    return [h("img", { class: "att-thumb", src: `${fileUrl(a.id)}/thumbnail`, alt: a.name }), h("span", { class: "att-name" }, a.name)];
  }
  return [h("span", { class: "att-icon", "aria-hidden": "true" }, a.kind === "pdf" ? "PDF" : "TXT"), h("span", { class: "att-name" }, a.name), h("span", { class: "att-meta" }, humanSize(a.size))];
}

/** A sent message's files: images inline (click for full size), documents as chips. */
export function attachmentList(attachments: Attachment[]): HTMLElement {
  const list = h("div", { class: "msg-attachments" });
  for (const a of attachments) {
    if (a.kind === "image") {
      const img = h("img", { class: "att-inline", src: a.has_thumbnail === false ? fileUrl(a.id) : `${fileUrl(a.id)}/thumbnail`, alt: a.name, loading: "lazy" });
      list.append(h("button", { type: "button", class: "att-image", title: `${a.name} — open full size`, "aria-label": `Open ${a.name} full size`, onclick: () => openViewer(a) }, img));
    } else {
      list.append(h("a", { class: "att-chip", href: fileUrl(a.id), download: a.name, title: `Download ${a.name}` }, ...attachmentPreview(a)));
    }
  }
  return list;
}

/** The full-size image over the page; Esc, the close button or a click outside closes it. */
export function openViewer(a: Attachment): void {
  const close = () => {
    overlay.remove();
    document.removeEventListener("keydown", onKey, true);
  };
  const onKey = (ev: KeyboardEvent) => {
    if (ev.key === "Escape") {
      ev.stopPropagation();
      close();
    }
  };
  const full = h("img", { class: "viewer-image", src: fileUrl(a.id), alt: a.name });
  const overlay = h(
    "div",
    { class: "viewer", id: "viewer", role: "dialog", "aria-modal": "true", "aria-label": a.name, onclick: (ev: Event) => { if (ev.target === overlay) close(); } },
    h("div", { class: "viewer-bar" }, h("span", { class: "viewer-name" }, a.name), h("a", { class: "btn small", href: fileUrl(a.id), download: a.name }, "Download"), h("button", { type: "button", class: "btn small viewer-close", "aria-label": "Close", onclick: close }, icon(ICONS.close, 14))),
    full,
  );
  document.addEventListener("keydown", onKey, true);
  document.body.append(overlay);
}
