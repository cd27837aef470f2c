import { session } from '../api/session';

/**
 * The streaming API (docs/streaming.md): one WebSocket per tab, shared by every page. It authenticates with an
 * `auth` message (the key never goes in the URL), re-subscribes after a reconnect, resumes the sequenced private
 * channels (`orders`, `fills`, `alerts`) with `since` and tells the page to re-read over REST on `resync`, and pings
 * every 25 s so the server's 60 s idle close never happens. Pages subscribe with a handler and get back an undo.
 */
export interface StreamMessage { type: string; channel?: string; seq?: number; data?: unknown; [k: string]: unknown }
type Handler = (message: StreamMessage) => void;

const SEQUENCED = new Set(['orders', 'fills', 'alerts']);
const PRIVATE = new Set(['orders', 'fills', 'alerts', 'strategies', 'portfolio']);

/** Which resume cursor a reconnect sends: only sequenced channels, and only those we have seen a seq for. */
export function sinceFor(channels: string[], lastSeq: ReadonlyMap<string, number>): Record<string, number> | undefined {
  const since: Record<string, number> = {};
  for (const c of channels) {
    const seq = lastSeq.get(c);
    if (SEQUENCED.has(c) && seq !== undefined) since[c] = seq;
  }
  return Object.keys(since).length > 0 ? since : undefined;
}

/** Reconnect delay after `attempt` failures: 1 s doubling to 30 s. */
export function backoff(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, attempt));
}

class StreamClient {
  private socket: WebSocket | undefined;
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly resyncHandlers = new Map<string, Set<() => void>>();
  private readonly lastSeq = new Map<string, number>();
  private attempt = 0;
  private pingTimer: number | undefined;
  private reconnectTimer: number | undefined;
  private authenticated = false;
  private authSent = false;
  /** Close codes after which reconnecting would only repeat the refusal. */
  private static readonly FINAL = new Set([4000, 4001, 4004, 4005]);

  subscribe(channel: string, handler: Handler, onResync?: () => void): () => void {
    let set = this.handlers.get(channel);
    const isNew = !set;
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
    if (onResync) {
      if (!this.resyncHandlers.has(channel)) this.resyncHandlers.set(channel, new Set());
      this.resyncHandlers.get(channel)!.add(onResync);
    }
    if (isNew) this.sendSubscriptions([channel]);
    this.ensureOpen();
    return () => {
      set!.delete(handler);
      if (onResync) this.resyncHandlers.get(channel)?.delete(onResync);
      if (set!.size === 0) {
        this.handlers.delete(channel);
        this.send({ type: 'unsubscribe', channels: [channel] });
      }
    };
  }

  /** The key changed or is gone: private channels must not outlive it. */
  signOut(): void {
    this.lastSeq.clear();
    this.socket?.close(1000, 'signed out');
    this.socket = undefined;
    this.authenticated = false;
    this.authSent = false;
  }

  private ensureOpen(): void {
    if (this.socket || this.reconnectTimer !== undefined || this.handlers.size === 0) return;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/stream`;
    const socket = new WebSocket(url);
    this.socket = socket;
    this.authenticated = false;
    this.authSent = false;
    socket.onopen = () => {
      this.attempt = 0;
      this.sendSubscriptions([...this.handlers.keys()]);
      this.pingTimer = window.setInterval(() => this.send({ type: 'ping' }), 25_000);
    };
    socket.onmessage = event => this.receive(event.data);
    socket.onclose = event => {
      window.clearInterval(this.pingTimer);
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (StreamClient.FINAL.has(event.code) || this.handlers.size === 0) return;
      this.reconnectTimer = window.setTimeout(() => {
        this.reconnectTimer = undefined;
        this.ensureOpen();
      }, backoff(this.attempt++));
    };
  }

  private receive(raw: unknown): void {
    if (typeof raw !== 'string') return;
    let message: StreamMessage;
    try {
      message = JSON.parse(raw) as StreamMessage;
    } catch {
      return;
    }
    if (message.type === 'authenticated') {
      this.authenticated = true;
      this.sendSubscriptions([...this.handlers.keys()]);
      return;
    }
    if (message.type === 'resync' && message.channel) {
      if (typeof message.seq === 'number') this.lastSeq.set(message.channel, message.seq);
      this.resyncHandlers.get(message.channel)?.forEach(h => h());
      return;
    }
    if (!message.channel || message.data === undefined) return;
    if (typeof message.seq === 'number') this.lastSeq.set(message.channel, message.seq);
    this.handlers.get(message.channel)?.forEach(h => h(message));
  }

  private sendSubscriptions(channels: string[]): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    const allowed = channels.filter(c => !PRIVATE.has(c) || this.authenticated);
    if (channels.some(c => PRIVATE.has(c)) && !this.authenticated && !this.authSent && session.apiKey) {
      this.authSent = true;
      socket.send(JSON.stringify({ type: 'auth', apiKey: session.apiKey }));
    }
    for (let i = 0; i < allowed.length; i += 64) {
      const batch = allowed.slice(i, i + 64);
      this.send({ type: 'subscribe', channels: batch, since: sinceFor(batch, this.lastSeq) });
    }
  }

  private send(message: Record<string, unknown>): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }
}

export const stream = new StreamClient();
