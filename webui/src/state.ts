// What the whole app shares: the signed-in user, the bots, the conversation list.

import { api, type Bot, type ConversationSummary, type Profile } from "./api";

type Listener = () => void;

class Store {
  me: Profile | null = null;
  bots: Bot[] = [];
  conversations: ConversationSummary[] = [];
  /** A bot chosen elsewhere (gallery "Chat", /bot) for the next new chat. */
  nextBotId: string | null = null;
  private listeners = new Map<string, Set<Listener>>();

  on(topic: "me" | "bots" | "conversations", fn: Listener): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(fn);
    return () => set!.delete(fn);
  }

  emit(topic: "me" | "bots" | "conversations"): void {
    for (const fn of this.listeners.get(topic) ?? []) fn();
  }

  setMe(me: Profile | null): void {
    this.me = me;
    this.emit("me");
  }

  private botsLoading: Promise<Bot[]> | null = null;

  async loadBots(force = false): Promise<Bot[]> {
    if (!force && this.bots.length) return this.bots;
    if (!force && this.botsLoading) return this.botsLoading;
    this.botsLoading = api.bots().then((bots) => {
      this.bots = bots;
      this.emit("bots");
      return bots;
    });
    try {
      return await this.botsLoading;
    } finally {
      this.botsLoading = null;
    }
  }

  async loadConversations(): Promise<ConversationSummary[]> {
    this.conversations = await api.conversations();
    this.emit("conversations");
    return this.conversations;
  }

  bot(id: string | null | undefined): Bot | undefined {
    return id ? this.bots.find((b) => b.id === id) : undefined;
  }

  botByName(name: string | null | undefined): Bot | undefined {
    return name ? this.bots.find((b) => b.name === name) : undefined;
  }

  botByHandle(handle: string): Bot | undefined {
    const lower = handle.toLowerCase();
    return this.bots.find((b) => b.handle.toLowerCase() === lower);
  }

  /** The user's default bot, or the first built-in one, or any. */
  defaultBot(): Bot | undefined {
    return this.bot(this.me?.default_bot_id) ?? this.bots.find((b) => b.builtin) ?? this.bots[0];
  }

  reset(): void {
    this.me = null;
    this.bots = [];
    this.conversations = [];
    this.nextBotId = null;
  }
}

export const store = new Store();
