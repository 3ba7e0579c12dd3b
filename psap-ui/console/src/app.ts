// The console: login, then the queue, the selected call, the map and (for supervisors) the
// supervisor view, kept live by the WebSocket feed. Every action goes to the server, which
// decides; its refusals (409: another call-taker was faster, the call ended) are shown as they
// are and the picture is refreshed, so the console never acts on a stale view.
import { ApiError, api } from './api';
import { CallBook } from './calls';
import {
  additionalDataSection, callerSection, eventsSection, historySection, locationSection,
} from './callview';
import { clockTime, duration, h, replaceChildren, serviceClass, serviceName, stateLabel } from './dom';
import { SHORTCUTS, commandFor, keysOf, type Command } from './keys';
import { LiveFeed, type FeedStatus } from './live';
import { CallMap } from './map';
import type { CallRecord, Me, ServerEvent, SupervisorView } from './types';

const TRANSFER_TARGETS = [
  { urn: 'urn:service:sos.fire', label: 'Fire' },
  { urn: 'urn:service:sos.police', label: 'Police' },
  { urn: 'urn:service:sos.ambulance', label: 'EMS (ambulance)' },
];

export class ConsoleApp {
  private me: Me | null = null;
  private ready = false;
  private readonly book = new CallBook();
  private feed: LiveFeed | null = null;
  private selectedId: number | null = null;
  private detail: CallRecord | null = null;
  private detailTimer: number | undefined;
  private supervisor: SupervisorView | null = null;
  private supervisorFetch: number | undefined;
  private renderPending = false;
  private tickTimer: number | undefined;
  private readonly shown = new Set<number>();  // calls whose row has been rendered (performance marks)
  private map: CallMap | null = null;
  private mapKey: string | null = null;  // what the map shows now: call and location
  private draftCall: number | null = null;  // the call whose reply field is on the page
  private el!: {
    status: HTMLElement; ready: HTMLButtonElement; user: HTMLElement; errors: HTMLElement; announcer: HTMLElement;
    queueBody: HTMLTableSectionElement; queueCount: HTMLElement; queueTable: HTMLTableElement;
    abandoned: HTMLElement; finished: HTMLElement; call: HTMLElement; supervisor: HTMLElement; mapDesc: HTMLElement;
    transfer: HTMLDialogElement; help: HTMLDialogElement;
  };

  constructor(private readonly root: HTMLElement) {}

  async start(): Promise<void> {
    try {
      this.me = await api.me();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return this.showLogin();
      return this.showLogin(describe(e));
    }
    this.showConsole();
  }

  // ---- login ----

  private showLogin(message?: string): void {
    this.stopConsole();
    const error = h('p', { id: 'login-error', className: 'login-error', role: 'alert' }, message ?? '');
    const name = h('input', { id: 'login-name', name: 'name', autocomplete: 'username', required: true, 'aria-describedby': 'login-error' });
    const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const submit = h('button', { type: 'submit', className: 'primary' }, 'Log in');
    const form = h('form', { className: 'login', 'aria-labelledby': 'login-h' },
      h('h2', { id: 'login-h' }, 'Log in'),
      h('label', { for: 'login-name' }, 'Name'), name,
      h('label', { for: 'login-password' }, 'Password'), password,
      submit, error);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      submit.disabled = true;
      error.textContent = '';
      try {
        const me = await api.login(name.value.trim(), password.value);
        this.me = { name: me.name, role: me.role };
        this.showConsole();
      } catch (err) {
        error.textContent = err instanceof ApiError && err.status === 401 ? 'Wrong name or password.' : describe(err);
        submit.disabled = false;
        password.select();
        password.focus();
      }
    });
    replaceChildren(this.root,
      h('header', { className: 'topbar' }, h('h1', {}, 'PSAP console')),
      h('main', { id: 'main', className: 'login-page' }, form));
    (message ? password : name).focus();
    if (message) name.focus();
  }

  // ---- the console ----

  private showConsole(): void {
    const me = this.me!;
    this.ready = me.ready ?? false;
    const status = h('p', { id: 'feed-status', className: 'feed-status', role: 'status', 'data-status': 'connecting' }, 'Connecting…');
    const ready = h('button', {
      id: 'ready', type: 'button', className: 'ready', 'aria-pressed': 'false', 'aria-keyshortcuts': 'R', onclick: () => this.toggleReady(),
    }, 'Not ready');
    const user = h('span', { className: 'user' }, `${me.name} (${me.role})`);
    const errors = h('div', { id: 'errors', className: 'errors', role: 'alert', 'aria-live': 'assertive' });
    const announcer = h('div', { id: 'announcer', className: 'sr-only', 'aria-live': 'assertive', 'aria-atomic': 'true' });
    const queueBody = h('tbody', { id: 'queue-rows' });
    const queueCount = h('span', { className: 'count', id: 'queue-count' }, '0');
    const queueTable = h('table', { id: 'queue', className: 'queue', 'aria-labelledby': 'queue-h', tabindex: '0' },
      h('caption', { className: 'sr-only' }, 'Live calls, ringing first, oldest first. Select with J and K, answer with A.'),
      h('thead', {}, h('tr', {}, ...['State', 'Time', 'Service', 'Callback', 'Caller', 'Kind'].map((t) => h('th', { scope: 'col' }, t)))),
      queueBody);
    const abandoned = h('ul', { id: 'abandoned', className: 'abandoned' });
    const finished = h('ul', { id: 'finished', className: 'finished' });
    const call = h('section', { id: 'call', className: 'panel call', 'aria-labelledby': 'call-h' });
    const supervisor = h('section', { id: 'supervisor', className: 'panel supervisor', 'aria-labelledby': 'supervisor-h', tabindex: '-1' });
    const mapBox = h('div', { id: 'map', className: 'map', role: 'region', 'aria-label': 'Map of the caller and the PSAP boundaries', tabindex: '0' });
    const mapDesc = h('p', { id: 'map-desc', className: 'map-desc', 'aria-live': 'polite' }, 'No call selected');
    const transfer = this.transferDialog();
    const help = this.helpDialog();

    replaceChildren(this.root,
      h('a', { className: 'skip', href: '#queue' }, 'Skip to the call queue'),
      h('header', { className: 'topbar' },
        h('h1', {}, 'PSAP console'),
        h('nav', { 'aria-label': 'Call-taker' },
          user, ready,
          h('button', { type: 'button', onclick: () => this.openHelp(), 'aria-keyshortcuts': '?' }, 'Shortcuts (?)'),
          h('button', { type: 'button', onclick: () => this.logout() }, 'Log out')),
        status),
      errors, announcer,
      h('main', { id: 'main', className: 'layout' },
        h('div', { className: 'column left' },
          h('section', { className: 'panel queue-panel', 'aria-labelledby': 'queue-h' },
            h('div', { className: 'panel-head' },
              h('h2', { id: 'queue-h' }, 'Queue · ', queueCount),
              h('button', { id: 'answer-next', type: 'button', className: 'primary', 'aria-keyshortcuts': 'Space N', onclick: () => this.run('answerNext') },
                'Answer oldest (N)')),
            h('div', { className: 'scroll' }, queueTable)),
          h('section', { className: 'panel abandoned-panel', 'aria-labelledby': 'abandoned-h' },
            h('h2', { id: 'abandoned-h', tabindex: '-1' }, 'Abandoned — call back'),
            h('div', { className: 'scroll' }, abandoned)),
          h('section', { className: 'panel finished-panel', 'aria-labelledby': 'finished-h' },
            h('h2', { id: 'finished-h' }, 'Recent calls'),
            h('div', { className: 'scroll' }, finished))),
        h('div', { className: 'column middle' }, call),
        h('div', { className: 'column right' },
          h('section', { className: 'panel map-panel', 'aria-labelledby': 'map-h' }, h('h2', { id: 'map-h' }, 'Map'), mapBox, mapDesc),
          me.role === 'supervisor' ? supervisor : null)),
      transfer, help);

    this.el = { status, ready, user, errors, announcer, queueBody, queueCount, queueTable, abandoned, finished, call, supervisor, mapDesc, transfer, help };
    this.renderReady();
    this.renderCall();
    this.map = new CallMap(mapBox, (text) => { mapDesc.textContent = text; });
    api.boundaries().then((b) => this.map?.setBoundaries(b)).catch((e) => this.showError(`Map boundaries: ${describe(e)}`, e));
    if (me.role === 'supervisor') {
      this.renderSupervisor();
      this.fetchSupervisor();
    }
    document.onkeydown = (e) => this.onKey(e);
    this.tickTimer = window.setInterval(() => this.tick(), 1000);
    this.feed = new LiveFeed({
      snapshot: (s) => {
        this.book.replace(s);
        this.scheduleRender();
        if (this.selectedId !== null) this.loadDetail(this.selectedId);
      },
      event: (e) => this.onEvent(e),
      status: (s, detail) => this.renderStatus(s, detail),
      failed: (e) => this.handleError('Resync', e),
    });
    this.feed.start();
    queueTable.focus();
  }

  private stopConsole(): void {
    this.feed?.stop();
    this.feed = null;
    window.clearInterval(this.tickTimer);
    document.onkeydown = null;
    this.map = null;
    this.mapKey = null;
    this.selectedId = null;
    this.detail = null;
    this.shown.clear();
  }

  private async logout(): Promise<void> {
    try {
      await api.logout();
    } catch {
      // Logged out or unreachable: the login page either way.
    }
    this.me = null;
    this.showLogin('Logged out.');
  }

  // ---- live events ----

  private onEvent(event: Exclude<ServerEvent, { type: 'hello' }>): void {
    switch (event.type) {
      case 'call': {
        const before = this.book.upsert(event.call);
        const c = event.call;
        if (!before && c.state === 'ringing') this.announce(`New ${serviceName(c.service)} ${c.kind === 'text' ? 'text' : 'call'}, callback ${c.callback || 'unknown'}`);
        else if (before?.state === 'ringing' && c.state === 'abandoned') this.announce(`Call from ${c.callback || 'unknown'} abandoned`);
        if (c.id === this.selectedId) this.loadDetailSoon(c.id);
        this.scheduleRender();
        this.fetchSupervisorSoon();
        break;
      }
      case 'text':
        if (event.direction === 'in') this.announce(`Text from ${event.sender}: ${event.body}`);
        if (event.call_id === this.selectedId) this.loadDetailSoon(event.call_id);
        break;
      case 'text_status':
        if (event.call_id === this.selectedId) this.loadDetailSoon(event.call_id);
        if (event.status === 'failed') this.showError(`Text to call ${event.call_id} not delivered (SIP ${event.sip_status ?? '?'})`);
        break;
      case 'queue':
        this.supervisor = event.supervisor;
        this.renderSupervisor();
        break;
    }
  }

  private renderStatus(status: FeedStatus, detail?: string): void {
    const text: Record<FeedStatus, string> = {
      connecting: 'Connecting…', live: 'Live', resyncing: 'Resyncing…', reconnecting: 'Reconnecting…',
    };
    this.el.status.dataset.status = status;
    this.el.status.textContent = text[status] + (detail ? ` (${detail})` : '');
  }

  // ---- rendering ----

  private scheduleRender(): void {
    if (this.renderPending) return;
    this.renderPending = true;
    requestAnimationFrame(() => {
      this.renderPending = false;
      this.renderQueue();
      this.renderAbandoned();
      this.renderSupervisor();
    });
  }

  private renderQueue(): void {
    const focusedRow = this.el.queueTable.contains(document.activeElement);
    const live = this.book.live();
    if (this.selectedId === null && live.length === 1) this.select(live[0].id, false);
    const rows = live.map((c) => {
      const tr = h('tr', {
        id: `call-row-${c.id}`, 'data-id': c.id, 'data-state': c.state, tabindex: '-1',
        'aria-selected': c.id === this.selectedId ? 'true' : 'false', className: `state-${c.state}`,
        onclick: () => this.select(c.id, true),
      },
        h('td', {}, h('span', { className: `badge state-${c.state}` }, stateLabel(c.state))),
        h('td', { className: 'timer', 'data-id': c.id }, duration(this.book.timer(c))),
        h('td', {}, h('span', { className: `badge ${serviceClass(c.service)}` }, serviceName(c.service))),
        h('td', { className: 'callback' }, c.callback || '—'),
        h('td', { title: c.caller_name || c.caller_uri }, c.caller_name || c.caller_uri, c.answered_by ? h('span', { className: 'by' }, ` · ${c.answered_by}`) : null),
        h('td', {}, c.kind === 'text' ? 'Text' : 'Voice'));
      return tr;
    });
    if (rows.length === 0) rows.push(h('tr', { className: 'empty' }, h('td', { colspan: 6 }, 'No calls waiting')));
    this.el.queueBody.replaceChildren(...rows);
    this.el.queueCount.textContent = String(live.filter((c) => c.state === 'ringing').length) + ' ringing';
    for (const c of live) {
      if (this.shown.has(c.id)) continue;
      this.shown.add(c.id);
      // Read by the benchmark: INVITE arrival (arrived_at) to the row in the page.
      performance.mark(`ng911:call-shown:${c.id}`, { detail: { id: c.id, arrived_at: c.arrived_at } });
    }
    if (focusedRow) this.focusSelectedRow();
  }

  private renderAbandoned(): void {
    const items = this.book.abandoned().slice(0, 30).map((c) => h('li', { 'data-id': c.id },
      h('button', { type: 'button', className: 'link', onclick: () => this.select(c.id, true) },
        h('strong', { className: 'callback' }, c.callback || 'no number'),
        ` ${serviceName(c.service)} · ${clockTime(c.arrived_at)} · waited ${duration(this.book.waited(c))}`,
        c.caller_name ? ` · ${c.caller_name}` : '')));
    replaceChildren(this.el.abandoned, ...(items.length ? items : [h('li', { className: 'none' }, 'None')]));
    const done = this.book.finished().slice(0, 20).map((c) => h('li', { 'data-id': c.id },
      h('button', { type: 'button', className: 'link', onclick: () => this.select(c.id, true) },
        `${clockTime(c.arrived_at)} ${stateLabel(c.state)} · ${serviceName(c.service)} · ${c.callback || '—'}`)));
    replaceChildren(this.el.finished, ...(done.length ? done : [h('li', { className: 'none' }, 'None')]));
  }

  private tick(): void {
    for (const cell of this.el.queueBody.querySelectorAll<HTMLElement>('td.timer')) {
      const c = this.book.get(Number(cell.dataset.id));
      if (c) cell.textContent = duration(this.book.timer(c));
    }
    if (this.me?.role === 'supervisor') this.renderSupervisorCounts();
  }

  private renderReady(): void {
    this.el.ready.setAttribute('aria-pressed', String(this.ready));
    this.el.ready.textContent = this.ready ? 'Ready (R)' : 'Not ready (R)';
    this.el.ready.classList.toggle('is-ready', this.ready);
  }

  // ---- the selected call ----

  private select(id: number, focus: boolean): void {
    if (this.selectedId !== id) {
      this.selectedId = id;
      this.detail = null;
      this.renderCall();
      this.loadDetail(id);
    }
    for (const tr of this.el.queueBody.querySelectorAll('tr')) tr.setAttribute('aria-selected', String(Number(tr.dataset.id) === id));
    if (focus) this.focusSelectedRow();
  }

  private focusSelectedRow(): void {
    const row = this.selectedId === null ? null : document.getElementById(`call-row-${this.selectedId}`);
    if (row) row.focus();
  }

  private loadDetailSoon(id: number): void {
    window.clearTimeout(this.detailTimer);
    this.detailTimer = window.setTimeout(() => this.loadDetail(id), 50);
  }

  private async loadDetail(id: number): Promise<void> {
    try {
      const record = await api.call(id);
      if (this.selectedId !== id) return;
      this.detail = record;
      this.renderCall();
    } catch (e) {
      this.handleError(`Call ${id}`, e);
    }
  }

  // The call view is rebuilt on every change of the call; what the call-taker is doing in it
  // (the focus, a reply half typed) must survive that.
  private renderCall(): void {
    const focused = document.activeElement instanceof HTMLElement && this.el.call.contains(document.activeElement)
      ? document.activeElement.id : '';
    const reply = document.getElementById('reply') as HTMLTextAreaElement | null;
    const draft = reply ? { call: this.draftCall, text: reply.value, start: reply.selectionStart, end: reply.selectionEnd } : null;
    this.buildCall();
    const again = document.getElementById('reply') as HTMLTextAreaElement | null;
    if (again && draft && draft.call === this.selectedId) {
      again.value = draft.text;
      again.setSelectionRange(draft.start, draft.end);
    }
    this.draftCall = this.selectedId;
    if (focused) document.getElementById(focused)?.focus();
  }

  private buildCall(): void {
    const c = this.detail ?? (this.selectedId !== null ? this.book.get(this.selectedId) ?? null : null);
    const el = this.el.call;
    if (!c) {
      replaceChildren(el, h('h2', { id: 'call-h', tabindex: '-1' }, 'No call selected'),
        h('p', { className: 'hint' }, 'Press N (or Space) to answer the oldest ringing call, J / K to select a call, ? for all shortcuts.'));
      this.showOnMap(null);
      return;
    }
    const live = c.state === 'ringing' || c.state === 'answered' || c.state === 'on_hold';
    const mine = c.state !== 'ringing';
    const button = (command: Command, label: string, enabled: boolean, cls = '') =>
      h('button', { type: 'button', id: `action-${command}`, className: cls, disabled: !enabled, 'aria-keyshortcuts': keysOf(command).replace('Space ', ''),
        onclick: () => this.run(command) }, `${label} (${keysOf(command).split(' ').pop()})`);
    const record = this.detail;
    const conversation = record && (record.kind === 'text' || (record.texts?.length ?? 0) > 0) ? this.conversation(record, live && mine) : null;
    replaceChildren(el,
      h('div', { className: 'panel-head' },
        h('h2', { id: 'call-h', tabindex: '-1' }, `Call ${c.id} · `, h('span', { className: `badge state-${c.state}`, id: 'call-state' }, stateLabel(c.state)),
          ' ', h('span', { className: `badge ${serviceClass(c.service)}` }, serviceName(c.service)))),
      h('div', { className: 'toolbar', role: 'toolbar', 'aria-label': 'Call actions', 'aria-controls': 'call' },
        button('answer', 'Answer', c.state === 'ringing', 'primary'),
        button('hold', c.state === 'on_hold' ? 'Resume' : 'Hold', c.kind === 'voice' && (c.state === 'answered' || c.state === 'on_hold')),
        button('release', 'Release', live && mine, 'danger'),
        button('transfer', 'Transfer', c.kind === 'voice' && c.state === 'answered' && !c.transfer_pending),
        button('rebid', 'Rebid location', live),
        button('text', 'Text', live && mine)),
      record
        ? h('div', { className: 'details' },
          h('div', { className: 'details-col' }, callerSection(record), locationSection(record)),
          h('div', { className: 'details-col' }, conversation, additionalDataSection(record), historySection(record), eventsSection(record)))
        : h('p', { className: 'hint' }, 'Loading the call…'));
    if (record) this.showOnMap(record);
  }

  private showOnMap(record: CallRecord | null): void {
    if (!this.map) return;
    const key = record ? `${record.id}:${JSON.stringify(record.location ?? {})}` : null;
    if (key === this.mapKey) return;
    this.mapKey = key;
    this.map.showCaller(record?.location ?? null);
  }

  private conversation(record: CallRecord, canSend: boolean): HTMLElement {
    const messages = (record.texts ?? []).map((t) => h('li', { className: `msg msg-${t.direction}`, 'data-status': t.status },
      h('span', { className: 'meta' }, `${t.direction === 'in' ? t.sender || 'Caller' : t.sender || 'PSAP'} · ${clockTime(t.at)}`,
        t.direction === 'out' ? ` · ${t.status}` : ''),
      h('p', {}, t.body)));
    const input = h('textarea', { id: 'reply', name: 'reply', rows: 2, maxlength: 2000, disabled: !canSend, 'aria-describedby': 'reply-hint' });
    const form = h('form', { className: 'reply' },
      h('label', { for: 'reply' }, 'Reply by text'), input,
      h('p', { id: 'reply-hint', className: 'hint' }, 'Enter sends, Shift+Enter adds a line, Escape leaves the field.'),
      h('button', { type: 'submit', disabled: !canSend }, 'Send'));
    // The field may be rebuilt while the request is under way: always the one on the page now.
    const field = () => document.getElementById('reply') as HTMLTextAreaElement | null;
    const send = async () => {
      const now = field();
      const text = now?.value.trim();
      if (!now || !text || !this.detail) return;
      const id = this.detail.id;
      now.value = '';
      try {
        await api.text(id, text);
        this.loadDetail(id);
      } catch (e) {
        const now = field();
        if (now && !now.value) now.value = text;  // not lost: sent again with Enter
        this.handleError('Text', e);
      }
    };
    form.addEventListener('submit', (e) => { e.preventDefault(); void send(); });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); void send(); }
    });
    const log = h('ol', { className: 'conversation', role: 'log', 'aria-live': 'polite', 'aria-label': 'Text conversation' }, ...messages);
    queueMicrotask(() => { log.scrollTop = log.scrollHeight; });
    return h('section', { className: 'detail-block', 'aria-labelledby': 'conversation-h' },
      h('h3', { id: 'conversation-h' }, 'Conversation'), log, form);
  }

  // ---- actions ----
  // The answer to an action is not applied to the queue: the pushed events are, in seq order,
  // so that a late answer never overwrites a newer state (the caller hung up meanwhile, say).
  // The selected call is reloaded after each action.

  private async run(command: Command): Promise<void> {
    const id = this.selectedId;
    const c = id === null ? undefined : this.detail?.id === id ? this.detail : this.book.get(id);
    try {
      switch (command) {
        case 'answerNext': {
          const answered = await api.answerNext();
          this.select(answered.id, false);
          this.loadDetail(answered.id);
          this.scheduleRender();
          this.focusCall();
          return;
        }
        case 'answer':
          if (!c) return this.noCall();
          await api.answer(c.id);
          this.focusCall();
          break;
        case 'hold':
          if (!c) return this.noCall();
          await (c.state === 'on_hold' ? api.resume(c.id) : api.hold(c.id));
          break;
        case 'release':
          if (!c) return this.noCall();
          await api.release(c.id);
          break;
        case 'transfer':
          if (!c) return this.noCall();
          this.openDialog(this.el.transfer);
          return;
        case 'rebid':
          if (!c) return this.noCall();
          await api.rebid(c.id);
          this.announce('Location updated');
          break;
        case 'text': {
          const input = document.getElementById('reply') as HTMLTextAreaElement | null;
          if (input && !input.disabled) input.focus();
          else this.showError('No text conversation to reply to: answer a call first.');
          return;
        }
        default:
          return;
      }
      this.scheduleRender();
      if (id !== null) this.loadDetail(id);
    } catch (e) {
      this.handleError(actionName(command, id), e);
      // The console's picture was behind the server's (another call-taker was faster, the
      // caller hung up): a snapshot, ordered by seq with the events, puts the queue right.
      if (e instanceof ApiError && (e.status === 404 || e.status === 409)) void this.feed?.resync();
      if (id !== null) this.loadDetail(id);
    }
  }

  private async transferTo(target: string): Promise<void> {
    const id = this.selectedId;
    if (id === null) return;
    try {
      await api.transfer(id, target);
      this.announce(`Transfer to ${target} started`);
      this.loadDetail(id);
      this.scheduleRender();
    } catch (e) {
      this.handleError(`Transfer of call ${id}`, e);
    }
  }

  private async toggleReady(): Promise<void> {
    try {
      const r = await api.setReady(!this.ready);
      this.ready = r.ready;
      this.renderReady();
      this.announce(this.ready ? 'You are ready' : 'You are not ready');
    } catch (e) {
      this.handleError('Ready', e);
    }
  }

  private noCall(): void {
    this.showError('No call selected: select one with J / K or click it.');
  }

  private focusCall(): void {
    document.getElementById('call-h')?.focus();
  }

  // ---- supervisor ----

  private fetchSupervisorSoon(): void {
    if (this.me?.role !== 'supervisor' || this.supervisorFetch !== undefined) return;
    this.supervisorFetch = window.setTimeout(() => {
      this.supervisorFetch = undefined;
      this.fetchSupervisor();
    }, 500);
  }

  private async fetchSupervisor(): Promise<void> {
    try {
      this.supervisor = await api.supervisor();
      this.renderSupervisor();
    } catch (e) {
      this.handleError('Supervisor view', e);
    }
  }

  private renderSupervisor(): void {
    if (this.me?.role !== 'supervisor') return;
    const s = this.supervisor;
    const takers = (s?.call_takers ?? []).map((t) => h('li', { className: t.ready ? 'is-ready' : 'not-ready' },
      `${t.name}: `, h('strong', {}, t.ready ? 'ready' : 'not ready')));
    const queues = (s?.queues ?? []).map((q) => h('tr', {},
      h('td', {}, h('code', {}, q.uri)), h('td', {}, q.state), h('td', {}, `${q.waiting} / ${q.max}`)));
    replaceChildren(this.el.supervisor,
      h('h2', { id: 'supervisor-h' }, 'Supervisor'),
      h('dl', { className: 'stats' },
        h('div', {}, h('dt', {}, 'Calls waiting'), h('dd', { id: 'sup-waiting' }, '0')),
        h('div', {}, h('dt', {}, 'Longest wait'), h('dd', { id: 'sup-longest' }, '0:00')),
        h('div', {}, h('dt', {}, 'Active calls'), h('dd', { id: 'sup-active' }, '0')),
        h('div', {}, h('dt', {}, 'Ready'), h('dd', { id: 'sup-ready' }, String(s?.ready ?? 0))),
        h('div', {}, h('dt', {}, 'Not ready'), h('dd', { id: 'sup-not-ready' }, String(s?.not_ready ?? 0)))),
      h('h3', {}, 'Call-takers'), h('ul', { className: 'takers' }, ...(takers.length ? takers : [h('li', {}, 'Nobody logged in')])),
      h('table', { className: 'queues' }, h('caption', {}, 'Queues (emergency-QueueState)'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Queue'), h('th', { scope: 'col' }, 'State'), h('th', { scope: 'col' }, 'Waiting'))),
        h('tbody', {}, ...queues)));
    this.renderSupervisorCounts();
  }

  // Waiting and longest wait from the live calls, so that they tick between server updates.
  private renderSupervisorCounts(): void {
    const ringing = this.book.live().filter((c) => c.state === 'ringing');
    const active = this.book.live().length - ringing.length;
    const longest = ringing.reduce((m, c) => Math.max(m, this.book.timer(c)), 0);
    const set = (id: string, v: string) => { const e = document.getElementById(id); if (e) e.textContent = v; };
    set('sup-waiting', String(ringing.length));
    set('sup-longest', duration(longest));
    set('sup-active', String(active));
  }

  // ---- dialogs ----

  private transferDialog(): HTMLDialogElement {
    const radios = TRANSFER_TARGETS.map((t, i) => h('label', { className: 'choice' },
      h('input', { type: 'radio', name: 'target', value: t.urn, checked: i === 0 }), ` ${t.label} `, h('code', {}, t.urn)));
    const other = h('input', { id: 'transfer-uri', name: 'uri', placeholder: 'sip:psap-b@example.net', 'aria-describedby': 'transfer-hint' });
    const otherRadio = h('input', { type: 'radio', name: 'target', value: 'other', id: 'transfer-other' });
    other.addEventListener('focus', () => { otherRadio.checked = true; });
    const form = h('form', { method: 'dialog' },
      h('h2', { id: 'transfer-h' }, 'Transfer the call'),
      h('fieldset', {}, h('legend', {}, 'To'), ...radios,
        h('label', { className: 'choice' }, otherRadio, ' Another PSAP (SIP URI)'), other,
        h('p', { id: 'transfer-hint', className: 'hint' }, 'A service is routed by the ESRP on the caller\'s location; a SIP URI names a PSAP.')),
      h('div', { className: 'dialog-buttons' },
        h('button', { type: 'submit', value: 'transfer', className: 'primary' }, 'Transfer'),
        h('button', { type: 'submit', value: 'cancel', formnovalidate: true }, 'Cancel')));
    const dialog = h('dialog', { id: 'transfer-dialog', 'aria-labelledby': 'transfer-h' }, form);
    dialog.addEventListener('close', () => {
      if (dialog.returnValue !== 'transfer') return;
      const chosen = (form.querySelector('input[name=target]:checked') as HTMLInputElement | null)?.value;
      const target = chosen === 'other' ? other.value.trim() : chosen;
      if (target) void this.transferTo(target);
    });
    return dialog;
  }

  private helpDialog(): HTMLDialogElement {
    return h('dialog', { id: 'help-dialog', 'aria-labelledby': 'help-h' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'help-h' }, 'Keyboard shortcuts'),
        h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, 'Does'))),
          h('tbody', {}, ...SHORTCUTS.map((s) => h('tr', {}, h('td', {}, ...s.keys.flatMap((k, i) => [i ? ' or ' : '', h('kbd', {}, k)])), h('td', {}, s.what))))),
        h('div', { className: 'dialog-buttons' }, h('button', { type: 'submit' }, 'Close'))));
  }

  private openHelp(): void {
    this.openDialog(this.el.help);
  }

  private openDialog(dialog: HTMLDialogElement): void {
    const back = document.activeElement as HTMLElement | null;
    dialog.addEventListener('close', () => back?.focus(), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
  }

  // ---- keys ----

  private onKey(e: KeyboardEvent): void {
    const target = e.target as HTMLElement;
    const typing = target.closest('input, textarea, select, [contenteditable=true]') !== null;
    if (document.querySelector('dialog[open]')) return;  // the dialog has the keys (Escape closes it)
    if (typing) {
      if (e.key === 'Escape') { target.blur(); this.focusSelectedRow(); }
      return;
    }
    const command = commandFor(e);
    if (!command) return;
    // Space and Enter keep their meaning on a focused button or link.
    if (e.key === ' ' && target.closest('button, a')) return;
    if (target.closest('.leaflet-container') && (e.key.startsWith('Arrow') || e.key === '+' || e.key === '-')) return;
    e.preventDefault();
    switch (command) {
      case 'next':
      case 'previous': return this.move(command === 'next' ? 1 : -1);
      case 'ready': return void this.toggleReady();
      case 'queue': return this.focusQueue();
      case 'abandoned': return (document.getElementById('abandoned-h') as HTMLElement).focus();
      case 'map': return this.map?.focus();
      case 'supervisor': return this.me?.role === 'supervisor' ? this.el.supervisor.focus() : this.showError('The supervisor view is for supervisors.');
      case 'help': return this.openHelp();
      case 'escape': return this.clearErrors();
      default: return void this.run(command);
    }
  }

  private focusQueue(): void {
    const first = this.book.live()[0];
    if (this.selectedId === null && first) this.select(first.id, true);
    else if (document.getElementById(`call-row-${this.selectedId}`)) this.focusSelectedRow();
    else this.el.queueTable.focus();
  }

  private move(step: number): void {
    const live = this.book.live();
    if (live.length === 0) return;
    const at = live.findIndex((c) => c.id === this.selectedId);
    const next = at < 0 ? (step > 0 ? 0 : live.length - 1) : Math.min(live.length - 1, Math.max(0, at + step));
    this.select(live[next].id, true);
  }

  // ---- messages ----

  private announce(text: string): void {
    // The same text twice in a row is still read: clear, then set on the next frame.
    this.el.announcer.textContent = '';
    requestAnimationFrame(() => { this.el.announcer.textContent = text; });
  }

  private handleError(what: string, e: unknown): void {
    if (e instanceof ApiError && e.status === 401) {
      this.me = null;
      this.showLogin('Your session ended: log in again.');
      return;
    }
    this.showError(`${what}: ${describe(e)}`, e);
  }

  showError(text: string, e?: unknown): void {
    if (!this.el) {
      replaceChildren(this.root, h('p', { className: 'boot-error', role: 'alert' }, `${text}. Reload the page (F5).`));
      return;
    }
    const status = e instanceof ApiError ? e.status : undefined;
    const item = h('div', { className: 'error', 'data-status': status ?? '' },
      h('span', {}, text),
      h('button', { type: 'button', className: 'dismiss', 'aria-label': 'Dismiss this message', onclick: () => item.remove() }, '×'));
    this.el.errors.prepend(item);
    while (this.el.errors.children.length > 3) this.el.errors.lastElementChild?.remove();
  }

  private clearErrors(): void {
    this.el.errors.replaceChildren();
  }
}

function actionName(command: Command, id: number | null): string {
  const what: Partial<Record<Command, string>> = {
    answerNext: 'Answer next', answer: 'Answer', hold: 'Hold / resume', release: 'Release', rebid: 'Rebid', transfer: 'Transfer',
  };
  return `${what[command] ?? command}${id !== null && command !== 'answerNext' ? ` call ${id}` : ''}`;
}

export function describe(e: unknown): string {
  if (e instanceof ApiError) {
    const kind: Record<number, string> = {
      0: 'no connection', 400: 'bad request', 403: 'not allowed', 404: 'not found', 409: 'not possible now',
      502: 'the peer failed', 503: 'storage unavailable',
    };
    return `${e.message} (${e.status ? `${e.status} ` : ''}${kind[e.status] ?? 'error'})`;
  }
  return e instanceof Error ? e.message : String(e);
}
