// The chat websocket: reconnects with exponential backoff, keeps messages typed while
// disconnected (and ones sent but not yet acknowledged) and sends them once connected,
// with the same client_msg_id so the server never stores one twice. Control frames (stop,
// regenerate, feedback, watch) are sent only while connected.

import { api, ApiError, UNAUTHORIZED_EVENT, type Usage } from "./api";

export type ConnState = "open" | "connecting" | "closed";

export interface SendFrame {
  type: "send";
  conversation_id: string | null;
  client_msg_id: string;
  text: string;
  bot_id: string | null;
  /** The turn shown last: a new message continues the branch on screen. */
  parent_id: string | null;
  /** Ids of files uploaded for this message. */
  attachments?: string[];
}

/** A new version of an earlier user message; resending it repeats nothing on the server. */
export interface EditFrame {
  type: "edit";
  conversation_id: string;
  message_id: string;
  client_msg_id: string;
  text: string;
}

/** Frames that only make sense now (not resent after a reconnect). */
export type ControlFrame =
  | { type: "stop"; conversation_id: string; response_id: string; client_msg_id?: string }
  | { type: "regenerate"; conversation_id: string; message_id: string; client_msg_id?: string }
  | { type: "feedback"; conversation_id: string; response_id: string; rating: 1 | -1; comment: string; client_msg_id?: string }
  | { type: "watch"; conversation_id: string; client_msg_id?: string };

/** Frames kept until acknowledged and sent again on reconnect. */
export type QueuedFrame = SendFrame | EditFrame;

export type ServerFrame =
  | { type: "accepted"; conversation_id: string; message_id: string; client_msg_id: string; response_id: string }
  | { type: "delta"; conversation_id: string; response_id: string; text: string }
  | { type: "message"; conversation_id: string; response_id: string; role: "assistant"; text: string; usage: Usage }
  | { type: "cancelled"; conversation_id: string; response_id: string }
  | { type: "title"; conversation_id: string; title: string }
  | {
      type: "notice";
      kind: "help" | "new" | "search" | "bot" | string;
      text: string;
      client_msg_id?: string;
      conversation_id?: string;
      bot_id?: string;
      results?: { conversation_id: string; message_id: string; role: string; snippet: string; bot_name?: string; at?: string }[];
    }
  | {
      type: "error";
      code: string;
      message: string;
      client_msg_id?: string;
      conversation_id?: string;
      response_id?: string;
    };

type FrameListener = (frame: ServerFrame) => void;
type StateListener = (state: ConnState, detail: { retryInMs?: number; reconnected?: boolean }) => void;

const UNAUTHORIZED_CLOSE = 4401;

export class ChatSocket {
  state: ConnState = "closed";
  private ws: WebSocket | null = null;
  private attempts = 0;
  private retryTimer: number | undefined;
  private stopped = true;
  private everOpened = false;
  /** client_msg_id → frame, until the server acknowledges it (accepted / notice / error). */
  private unacked = new Map<string, QueuedFrame>();
  private frameListeners = new Set<FrameListener>();
  private stateListeners = new Set<StateListener>();

  onFrame(fn: FrameListener): () => void {
    this.frameListeners.add(fn);
    return () => this.frameListeners.delete(fn);
  }

  onState(fn: StateListener): () => void {
    this.stateListeners.add(fn);
    fn(this.state, {});
    return () => this.stateListeners.delete(fn);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.retryTimer);
    this.unacked.clear();
    this.everOpened = false;
    this.attempts = 0;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = ws.onerror = ws.onmessage = ws.onopen = null;
      ws.close(1000, "bye");
    }
    this.setState("closed", {});
  }

  /** Send now if connected; otherwise keep it and send on reconnect. */
  send(frame: QueuedFrame): void {
    this.unacked.set(frame.client_msg_id, frame);
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
    } else if (!this.stopped && this.state === "closed") {
      this.retryNow();
    }
  }

  /** Send now if connected; false (and nothing kept) when not. */
  sendNow(frame: ControlFrame): boolean {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    if (!this.stopped && this.state === "closed") this.retryNow();
    return false;
  }

  isQueued(clientMsgId: string): boolean {
    return this.unacked.has(clientMsgId) && this.state !== "open";
  }

  /** Skip the backoff wait and try again at once. */
  retryNow(): void {
    if (this.stopped || this.state !== "closed") return;
    window.clearTimeout(this.retryTimer);
    this.connect();
  }

  private setState(state: ConnState, detail: { retryInMs?: number; reconnected?: boolean }): void {
    this.state = state;
    for (const fn of this.stateListeners) fn(state, detail);
  }

  private connect(): void {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    this.setState("connecting", {});
    let ws: WebSocket;
    try {
      ws = new WebSocket(`${proto}//${location.host}/ws`);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      const reconnected = this.everOpened;
      this.everOpened = true;
      this.attempts = 0;
      this.setState("open", { reconnected });
      for (const frame of this.unacked.values()) ws.send(JSON.stringify(frame));
    };
    ws.onmessage = (ev) => {
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      const cid = (frame as { client_msg_id?: string }).client_msg_id;
      if (cid && (frame.type === "accepted" || frame.type === "notice" || frame.type === "error")) this.unacked.delete(cid);
      for (const fn of this.frameListeners) fn(frame);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (ev.code === UNAUTHORIZED_CLOSE) {
        this.stop();
        window.dispatchEvent(new CustomEvent(UNAUTHORIZED_EVENT));
        return;
      }
      if (!opened) {
        // The server refuses an anonymous handshake before accepting it; browsers then
        // report 1006, not 4401. Ask the API whether the session is still good.
        void api.me().catch((err) => {
          if (err instanceof ApiError && err.status === 401) {
            this.stop();
            window.dispatchEvent(new CustomEvent(UNAUTHORIZED_EVENT));
          }
        });
      }
      this.scheduleRetry();
    };
    ws.onerror = () => {
      /* onclose follows and schedules the retry */
    };
  }

  private scheduleRetry(): void {
    const base = Math.min(10000, 500 * 2 ** this.attempts);
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.attempts += 1;
    this.setState("closed", { retryInMs: delay });
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => this.connect(), delay);
  }
}

export const socket = new ChatSocket();

// Come back quickly when the network or the tab comes back.
window.addEventListener("online", () => socket.retryNow());
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") socket.retryNow();
});
