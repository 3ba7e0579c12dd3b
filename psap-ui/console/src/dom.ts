// A small element builder and the formats the console shows (timers, services, states).
import type { CallState } from './types';

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (name === 'className') el.className = String(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'object' ? c : String(c));
  }
}

export function replaceChildren(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

// 0:07, 12:34, 1:02:03
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return hh > 0 ? `${hh}:${two(mm)}:${two(ss)}` : `${mm}:${two(ss)}`;
}

export function clockTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString('en-GB', { hour12: false });
}

// urn:service:sos.police → Police; the bare urn:service:sos is a general emergency call.
export function serviceName(urn: string): string {
  const m = /^urn:service:sos(?:\.(.+))?$/i.exec(urn ?? '');
  if (!m) return urn || 'unknown';
  const sub = (m[1] ?? '').toLowerCase();
  const names: Record<string, string> = {
    '': 'Emergency', police: 'Police', fire: 'Fire', ambulance: 'EMS', ems: 'EMS', marine: 'Marine',
    mountain: 'Mountain rescue', poison: 'Poison', physician: 'Physician', animal: 'Animal control', gas: 'Gas',
  };
  return names[sub] ?? sub;
}

export function serviceClass(urn: string): string {
  const n = serviceName(urn).toLowerCase();
  return n === 'police' || n === 'fire' || n === 'ems' ? `svc-${n}` : 'svc-other';
}

export const STATE_LABEL: Record<CallState, string> = {
  ringing: 'Ringing', answered: 'Answered', on_hold: 'On hold', ended: 'Ended', abandoned: 'Abandoned',
  transferred: 'Transferred', interrupted: 'Interrupted',
};

export function stateLabel(state: string): string {
  return (STATE_LABEL as Record<string, string>)[state] ?? state;
}
