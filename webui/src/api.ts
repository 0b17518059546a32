import type { Attachment } from "./attachments";
// The Confab HTTP API: typed calls, one error shape.

export type Theme = "system" | "light" | "dark";

export interface Profile {
  user_id: string;
  email: string;
  display_name: string;
  role: string;
  avatar_url: string | null;
  preferences: { theme: Theme; auto_route: boolean };
  default_bot_id: string | null;
}

export interface Sampling {
  temperature: number;
  top_p: number;
  max_new_tokens: number;
  repetition_penalty: number;
}

export interface Bot {
  id: string;
  name: string;
  description: string;
  traits: string[];
  traits_text: string;
  greeting: string;
  avatar_url: string;
  sampling: Sampling;
  model: string;
  visibility: "private" | "shared";
  builtin: boolean;
  mine: boolean;
  customized: boolean;
  handle: string;
  system_prompt: string;
}

export interface BotOptions {
  traits: string[];
  max_traits: number;
  sampling_ranges: Record<keyof Sampling, [number, number]>;
  visibilities: string[];
  limits: { name: number; description: number; traits_text: number; greeting: number };
}

export interface BotFields {
  name?: string;
  description?: string;
  traits?: string[];
  traits_text?: string;
  greeting?: string;
  sampling?: Partial<Sampling>;
  visibility?: string;
}

export interface ConversationSummary {
  id: string;
  title: string;
  bot_id: string;
  bot_name: string;
  started_at: string;
  last_activity: string;
  message_count: number;
}

export interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  model?: string;
  ttft_ms?: number;
  total_ms?: number;
  finish_reason?: string;
}

export type TurnStatus = "pending" | "complete" | "failed" | "cancelled";

export interface Feedback {
  rating: 1 | -1;
  comment: string;
}

export interface TranscriptMessage {
  id: string;
  role: "user" | "assistant";
  text: string;
  created_at: string;
  status: TurnStatus;
  usage?: Usage | null;
  error?: string | null;
  bot_name?: string | null;
  /** The turn this one follows; null for the first. */
  parent_id?: string | null;
  feedback?: Feedback | null;
  /** Files sent with a user message. */
  attachments?: Attachment[] | null;
}

/** Every turn of the conversation's tree; `leaf_id` ends the branch shown by default. */
export interface Transcript {
  conversation_id: string;
  title: string;
  bot_id: string;
  leaf_id?: string | null;
  messages: TranscriptMessage[];
}

export interface TokenInfo {
  id: string;
  name: string;
}

export interface NewToken extends TokenInfo {
  token: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Fired when a call comes back 401: the app shows the login page. */
export const UNAUTHORIZED_EVENT = "confab:unauthorized";

export async function request<T>(method: string, path: string, body?: unknown, quiet401 = false): Promise<T> {
  const init: RequestInit = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, "network_error", "Cannot reach the Confab server. Check your connection and try again.");
  }
  if (res.status === 204) return undefined as T;
  let data: any = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = data?.error ?? {};
    const error = new ApiError(res.status, err.code ?? `http_${res.status}`, err.message ?? `Request failed (${res.status}).`, err.field ?? undefined);
    if (res.status === 401 && !quiet401) window.dispatchEvent(new CustomEvent(UNAUTHORIZED_EVENT));
    throw error;
  }
  return data as T;
}

function upload(file: File): FormData {
  const form = new FormData();
  form.append("data", file, file.name);
  return form;
}

export const api = {
  register: (email: string, password: string, display_name: string) =>
    request<Profile>("POST", "/api/auth/register", { email, password, display_name }, true),
  login: (email: string, password: string) => request<Profile>("POST", "/api/auth/login", { email, password }, true),
  logout: () => request<void>("POST", "/api/auth/logout", undefined, true),
  me: () => request<Profile>("GET", "/api/me", undefined, true),
  updateMe: (display_name: string, preferences: Profile["preferences"]) =>
    request<Profile>("PATCH", "/api/me", { display_name, preferences }),
  uploadMyAvatar: (file: File) => request<Profile>("PUT", "/api/me/avatar", upload(file)),
  setDefaultBot: (bot_id: string) => request<Profile>("PUT", "/api/me/default-bot", { bot_id }),
  tokens: () => request<TokenInfo[]>("GET", "/api/me/tokens"),
  createToken: (name: string) => request<NewToken>("POST", "/api/me/tokens", { name }),
  revokeToken: (id: string) => request<void>("DELETE", `/api/me/tokens/${encodeURIComponent(id)}`),

  bots: () => request<Bot[]>("GET", "/api/bots"),
  bot: (id: string) => request<Bot>("GET", `/api/bots/${encodeURIComponent(id)}`),
  botOptions: () => request<BotOptions>("GET", "/api/bots/options"),
  previewBot: (fields: BotFields) => request<{ system_prompt: string }>("POST", "/api/bots/preview", fields),
  createBot: (fields: BotFields) => request<Bot>("POST", "/api/bots", fields),
  updateBot: (id: string, fields: BotFields) => request<Bot>("PATCH", `/api/bots/${encodeURIComponent(id)}`, fields),
  archiveBot: (id: string) => request<void>("DELETE", `/api/bots/${encodeURIComponent(id)}`),
  uploadBotAvatar: (id: string, file: File) => request<Bot>("PUT", `/api/bots/${encodeURIComponent(id)}/avatar`, upload(file)),
  customizeBot: (id: string, fields: BotFields) =>
    request<Bot>("PUT", `/api/bots/${encodeURIComponent(id)}/customization`, fields),

  conversations: () => request<ConversationSummary[]>("GET", "/api/conversations"),
  conversation: (id: string) => request<Transcript>("GET", `/api/conversations/${encodeURIComponent(id)}`),
  renameConversation: (id: string, title: string) =>
    request<Transcript>("PATCH", `/api/conversations/${encodeURIComponent(id)}`, { title }),
  deleteConversation: (id: string) => request<void>("DELETE", `/api/conversations/${encodeURIComponent(id)}`),
};

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
