// The live feed: /ws with reconnects, and the rule that keeps the console's picture whole.
// Each pushed event has seq one more than the one before. On every (re)connect the server's
// hello says its current seq; if it differs from the last one applied, events were missed (a
// dropped socket, a reload, a restart) and the console resyncs with GET /api/calls, whose seq
// says which events the snapshot already contains. Events that arrive while the snapshot is on
// its way are kept and applied after it when newer; a gap in seq triggers a resync too.
import { api } from './api';
import type { CallsSnapshot, ServerEvent } from './types';

export type FeedStatus = 'connecting' | 'live' | 'resyncing' | 'reconnecting';

export interface FeedHandlers {
  snapshot(snapshot: CallsSnapshot): void;
  event(event: Exclude<ServerEvent, { type: 'hello' }>): void;
  status(status: FeedStatus, detail?: string): void;
  failed(error: unknown): void;  // a resync that failed (401 included)
}

const RETRY_MS = [250, 500, 1000, 2000, 4000];

export class LiveFeed {
  private socket: WebSocket | null = null;
  private lastSeq = -1;
  private resyncing = false;
  private held: Exclude<ServerEvent, { type: 'hello' }>[] = [];
  private attempts = 0;
  private retryTimer: number | undefined;
  private stopped = false;

  constructor(private readonly handlers: FeedHandlers) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.retryTimer);
    this.socket?.close(1000, 'logged out');
    this.socket = null;
  }

  get seq(): number {
    return this.lastSeq;
  }

  // Asks for a fresh snapshot now (e.g. after an action's error, to show the truth).
  async resync(): Promise<void> {
    if (this.resyncing) return;
    this.resyncing = true;
    this.handlers.status('resyncing');
    try {
      const snapshot = await api.calls();
      this.lastSeq = snapshot.seq;
      this.handlers.snapshot(snapshot);
      const later = this.held.filter((e) => e.seq > snapshot.seq).sort((a, b) => a.seq - b.seq);
      this.held = [];
      this.resyncing = false;
      for (const e of later) this.apply(e);
      this.handlers.status(this.socket?.readyState === WebSocket.OPEN ? 'live' : 'reconnecting');
    } catch (error) {
      this.resyncing = false;
      this.held = [];
      this.handlers.failed(error);
    }
  }

  private connect(): void {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${location.host}/ws`);
    this.socket = socket;
    this.handlers.status(this.attempts === 0 ? 'connecting' : 'reconnecting');
    socket.onmessage = (m) => {
      let event: ServerEvent;
      try {
        event = JSON.parse(String(m.data)) as ServerEvent;
      } catch {
        return;  // not ours; the seq check catches anything really lost
      }
      if (event.type === 'hello') {
        this.attempts = 0;
        if (event.seq !== this.lastSeq) void this.resync();
        else this.handlers.status('live');
        return;
      }
      this.apply(event);
    };
    socket.onclose = (e) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      const delay = RETRY_MS[Math.min(this.attempts, RETRY_MS.length - 1)];
      this.attempts++;
      this.handlers.status('reconnecting', e.code === 1000 ? undefined : `connection lost (${e.code})`);
      this.retryTimer = window.setTimeout(() => this.connect(), delay);
    };
  }

  private apply(event: Exclude<ServerEvent, { type: 'hello' }>): void {
    if (this.resyncing) {
      this.held.push(event);
      return;
    }
    if (event.seq <= this.lastSeq) return;  // already in the snapshot
    if (this.lastSeq >= 0 && event.seq !== this.lastSeq + 1) {
      this.held.push(event);
      void this.resync();
      return;
    }
    this.lastSeq = event.seq;
    this.handlers.event(event);
  }
}
