// The shapes of ng911-psap's API (docs/psap-api.md), as the console reads them.

export type CallState = 'ringing' | 'answered' | 'on_hold' | 'ended' | 'abandoned' | 'transferred' | 'interrupted';
export type Role = 'call-taker' | 'supervisor';

export interface CallSummary {
  id: number;
  kind: 'voice' | 'text';
  queue: string;
  sip_call_id: string;
  state: CallState;
  caller_uri: string;
  caller_name: string;
  callback: string;
  service: string;
  answered_by: string | null;
  arrived_at: string;
  answered_at: string | null;
  wait_s?: number;
  lat?: number;
  lon?: number;
  transfer_pending?: string;
  ended_at?: string | null;
}

export interface CivicAddress { [field: string]: string }

export interface Location {
  source?: string;
  profile?: string;
  method?: string;
  shape?: string;
  lat?: number;
  lon?: number;
  uncertainty_m?: number;
  confidence?: number;
  geojson?: GeoJSON.Geometry;
  civic?: CivicAddress;
  address?: string;
  provider?: string;
  references?: string[];
  problems?: string[];
}

export interface CallEvent { at: string; kind: string; actor?: string | null; detail?: unknown }
export interface TextMessage {
  id: number;
  at: string;
  direction: 'in' | 'out';
  sender: string;
  body: string;
  status: string;
}

export interface CallRecord extends CallSummary {
  emergency_call_id?: string;
  incident_id?: string;
  additional_data?: { purpose: string; uri: string }[];
  history?: { uri: string; index: string; reason?: string }[];
  location?: Location;
  location_references?: string[];
  events?: CallEvent[];
  texts?: TextMessage[];
}

export interface CallsSnapshot { seq: number; live: CallSummary[]; recent: CallSummary[] }

export interface SupervisorView {
  queues: { uri: string; state: string; waiting: number; max: number; longest_wait_s: number }[];
  calls_waiting: number;
  calls_active: number;
  longest_wait_s: number;
  call_takers: { name: string; ready: boolean }[];
  ready: number;
  not_ready: number;
  subscribers: number;
}

export interface Me { name: string; role: Role; ready?: boolean }

// Pushed over /ws; every one but hello carries seq, one more than the one before.
export type ServerEvent =
  | { type: 'hello'; seq: number; user: string }
  | { type: 'call'; seq: number; call: CallSummary }
  | { type: 'text'; seq: number; call_id: number; direction: 'in' | 'out'; sender: string; body: string; at: string }
  | { type: 'text_status'; seq: number; call_id: number; text_id: number; status: string; sip_status?: number }
  | { type: 'queue'; seq: number; supervisor: SupervisorView };

export const LIVE_STATES: ReadonlySet<CallState> = new Set(['ringing', 'answered', 'on_hold']);
