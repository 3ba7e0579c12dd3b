// The console's picture of the calls: the live ones (ringing, answered, on hold) and the recent
// ones, replaced whole by a snapshot and changed one call at a time by pushed events. Timers
// run on the server's clock: each summary's wait_s against its arrived_at gives the offset.
import { LIVE_STATES, type CallsSnapshot, type CallSummary } from './types';

export class CallBook {
  private calls = new Map<number, CallSummary>();
  private offsetMs = 0;  // server clock minus ours

  replace(snapshot: CallsSnapshot): void {
    this.calls.clear();
    // Recent first, so that a live entry for the same id wins.
    for (const c of snapshot.recent) this.calls.set(c.id, c);
    for (const c of snapshot.live) this.upsert(c);
  }

  // A call's summary (a pushed event, a snapshot's entry), merged into what is known of it.
  upsert(update: CallSummary): CallSummary | undefined {
    const before = this.calls.get(update.id);
    if (update.wait_s !== undefined && update.arrived_at) {
      const serverNow = Date.parse(update.arrived_at) + update.wait_s * 1000;
      if (Number.isFinite(serverNow)) this.offsetMs = serverNow - Date.now();
    }
    const call: CallSummary = { ...before, ...update };
    if (!LIVE_STATES.has(call.state) && !call.ended_at) call.ended_at = before?.ended_at ?? this.serverIso();
    this.calls.set(call.id, call);
    return before;
  }

  get(id: number): CallSummary | undefined {
    return this.calls.get(id);
  }

  // Ringing first (oldest first: the order they are answered in), then answered and on hold.
  live(): CallSummary[] {
    const order = (c: CallSummary) => (c.state === 'ringing' ? 0 : 1);
    return [...this.calls.values()]
      .filter((c) => LIVE_STATES.has(c.state))
      .sort((a, b) => order(a) - order(b) || a.arrived_at.localeCompare(b.arrived_at) || a.id - b.id);
  }

  // Abandoned calls, newest first: the ones to call back.
  abandoned(): CallSummary[] {
    return [...this.calls.values()].filter((c) => c.state === 'abandoned').sort((a, b) => b.arrived_at.localeCompare(a.arrived_at));
  }

  // Other calls that are over, newest first.
  finished(): CallSummary[] {
    return [...this.calls.values()]
      .filter((c) => !LIVE_STATES.has(c.state) && c.state !== 'abandoned')
      .sort((a, b) => b.arrived_at.localeCompare(a.arrived_at));
  }

  oldestRinging(): CallSummary | undefined {
    return this.live().find((c) => c.state === 'ringing');
  }

  serverNow(): number {
    return Date.now() + this.offsetMs;
  }

  // Seconds the call has waited (ringing) or lasted (answered, on hold), by the server's clock.
  timer(call: CallSummary): number {
    const from = call.state === 'ringing' || !call.answered_at ? call.arrived_at : call.answered_at;
    return (this.serverNow() - Date.parse(from)) / 1000;
  }

  // How long an abandoned caller waited before hanging up.
  waited(call: CallSummary): number {
    const end = call.ended_at ? Date.parse(call.ended_at) : this.serverNow();
    return (end - Date.parse(call.arrived_at)) / 1000;
  }

  private serverIso(): string {
    return new Date(this.serverNow()).toISOString();
  }
}
