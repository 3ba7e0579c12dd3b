// Requests to ng911-psap's API. Every failure becomes an ApiError with the HTTP status (0 when
// the server could not be reached) and the server's own message, so that the console can say
// exactly what went wrong: 401 sends the call-taker back to the login, 409 and the others are
// shown as they are.
import type { CallRecord, CallsSnapshot, CallSummary, Location, Me, SupervisorView } from './types';

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly action: string) {
    super(message);
    this.name = 'ApiError';
  }
}

async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const action = `${method} ${path}`;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'ng911-psap cannot be reached', action);
  }
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // A proxy's HTML error page, say: keep its status, say what it was.
  }
  if (!response.ok) {
    const message =
      parsed && typeof parsed === 'object' && 'error' in parsed ? String((parsed as { error: unknown }).error) : `HTTP ${response.status}`;
    throw new ApiError(response.status, message, action);
  }
  return parsed as T;
}

export const api = {
  login: (name: string, password: string) => request<Me & { seq: number }>('POST', '/api/login', { name, password }),
  logout: () => request<unknown>('POST', '/api/logout'),
  me: () => request<Me>('GET', '/api/me'),
  setReady: (ready: boolean) => request<{ name: string; ready: boolean }>('POST', ready ? '/api/me/ready' : '/api/me/not-ready'),
  calls: () => request<CallsSnapshot>('GET', '/api/calls'),
  call: (id: number) => request<CallRecord>('GET', `/api/calls/${id}`),
  answer: (id: number) => request<CallSummary>('POST', `/api/calls/${id}/answer`),
  answerNext: () => request<CallSummary>('POST', '/api/answer-next'),
  hold: (id: number) => request<CallSummary>('POST', `/api/calls/${id}/hold`),
  resume: (id: number) => request<CallSummary>('POST', `/api/calls/${id}/resume`),
  release: (id: number) => request<CallSummary>('POST', `/api/calls/${id}/release`),
  transfer: (id: number, target: string) => request<CallSummary>('POST', `/api/calls/${id}/transfer`, { target }),
  rebid: (id: number) => request<{ id: number; location: Location }>('POST', `/api/calls/${id}/rebid`),
  text: (id: number, text: string) => request<unknown>('POST', `/api/calls/${id}/text`, { text }),
  supervisor: () => request<SupervisorView>('GET', '/api/supervisor'),
  boundaries: () => request<GeoJSON.FeatureCollection>('GET', '/api/boundaries'),
};
