// The selected call in full: who calls and how to call back, where they are (coordinates,
// uncertainty, confidence, method, civic address, provider), the i3 additional data, the route
// the call took through the ESRP and its transfers, its events and its text conversation.
import { clockTime, h, serviceName, stateLabel } from './dom';
import type { CallRecord, Location } from './types';

function row(term: string, value: Node | string | number | null | undefined): HTMLElement[] {
  const shown = value === null || value === undefined || value === '' ? h('span', { className: 'none' }, '—') : value;
  return [h('dt', {}, term), h('dd', {}, shown)];
}

function list(title: string, items: HTMLElement[]): HTMLElement {
  return h('section', { className: 'detail-block', 'aria-label': title },
    h('h3', {}, title),
    items.length ? h('ul', {}, ...items) : h('p', { className: 'none' }, 'None'));
}

const PROVIDER_PURPOSE = 'EmergencyCallData.ProviderInfo';

export function providerOf(call: CallRecord): string | undefined {
  return call.additional_data?.find((d) => d.purpose === PROVIDER_PURPOSE)?.uri;
}

export function callerSection(call: CallRecord): HTMLElement {
  return h('section', { className: 'detail-block', 'aria-labelledby': 'caller-h' },
    h('h3', { id: 'caller-h' }, 'Caller'),
    h('dl', { className: 'facts' },
      ...row('Callback number', h('strong', { className: 'callback', 'data-field': 'callback' }, call.callback || '—')),
      ...row('Name', call.caller_name),
      ...row('Identity', call.caller_uri),
      ...row('Service', `${serviceName(call.service)} (${call.service || 'none'})`),
      ...row('Kind', call.kind === 'text' ? 'Text (SIP MESSAGE)' : 'Voice'),
      ...row('State', stateLabel(call.state) + (call.answered_by ? ` by ${call.answered_by}` : '') +
        (call.transfer_pending ? ` — transfer to ${call.transfer_pending} under way` : '')),
      ...row('Arrived', clockTime(call.arrived_at)),
      ...row('Answered', clockTime(call.answered_at)),
      ...row('Queue', call.queue),
      ...row('Emergency call id', call.emergency_call_id),
      ...row('Incident id', call.incident_id)));
}

export function locationSection(call: CallRecord): HTMLElement {
  const loc: Location = call.location ?? {};
  const coord = (v: number | undefined) => (v === undefined ? undefined : v.toFixed(6));
  const refs = loc.references ?? call.location_references ?? [];
  return h('section', { className: 'detail-block', 'aria-labelledby': 'location-h' },
    h('h3', { id: 'location-h' }, 'Location'),
    h('dl', { className: 'facts' },
      ...row('Latitude', coord(loc.lat)),
      ...row('Longitude', coord(loc.lon)),
      ...row('Uncertainty', loc.uncertainty_m === undefined || loc.uncertainty_m === null ? undefined : `${loc.uncertainty_m} m (${loc.shape ?? 'shape'})`),
      ...row('Confidence', loc.confidence === undefined || loc.confidence === null ? undefined : `${loc.confidence} %`),
      ...row('Method', loc.method),
      ...row('Civic address', loc.address),
      ...row('Provider', providerOf(call)),
      ...row('Source', loc.source === 'rebid' ? 'Rebid (HELD)' : loc.source === 'value' ? 'PIDF-LO in the call' : loc.source),
      ...row('By reference', refs.length ? refs.join(' ') : undefined)),
    loc.problems && loc.problems.length
      ? h('p', { className: 'problem', role: 'note' }, `Location problems: ${loc.problems.join('; ')}`)
      : null);
}

export function additionalDataSection(call: CallRecord): HTMLElement {
  return list('Additional data', (call.additional_data ?? []).map((d) =>
    h('li', {}, h('span', { className: 'purpose' }, d.purpose.replace(/^EmergencyCallData\./, '')), ' ', h('code', {}, d.uri))));
}

// The route the call took (History-Info) and the transfers recorded in its events.
export function historySection(call: CallRecord): HTMLElement {
  const route = (call.history ?? []).map((hi) =>
    h('li', {}, h('span', { className: 'index' }, hi.index ?? ''), ' ', h('code', {}, hi.uri), hi.reason ? ` (${hi.reason})` : ''));
  const transfers = (call.events ?? []).filter((e) => e.kind.startsWith('transfer') || e.kind === 'bridged').map((e) =>
    h('li', {}, `${clockTime(e.at)} ${e.kind.replace(/_/g, ' ')}`, e.actor ? ` by ${e.actor}` : '', detailText(e.detail)));
  return list('Route and transfers', [...route, ...transfers]);
}

export function eventsSection(call: CallRecord): HTMLElement {
  const events = [...(call.events ?? [])].reverse().slice(0, 30);
  return list('Events', events.map((e) => h('li', {}, h('time', { datetime: e.at }, clockTime(e.at)), ' ', e.kind.replace(/_/g, ' '),
    e.actor ? ` — ${e.actor}` : '')));
}

function detailText(detail: unknown): string {
  if (!detail || typeof detail !== 'object') return '';
  const d = detail as Record<string, unknown>;
  const parts = ['target', 'status', 'reason'].filter((k) => d[k] !== undefined).map((k) => `${k} ${String(d[k])}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}
