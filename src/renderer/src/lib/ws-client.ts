// The LabApi over web mode's WebSocket (the browser sends the token cookie with the handshake).

import type { LabApi, LabEventName, LabEvents } from '../../../shared/lab-api';
import { decodeFrame, encodeFrame, type HostFrame } from '../../../shared/wire';

/** Connects to `url` (ws://host/api) and resolves once the socket is open; `onClose` hears a lost connection. */
export function connectLab(url: string, onClose: () => void = () => {}): Promise<LabApi> {
  const ws = new WebSocket(url);
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Map<LabEventName, Set<(payload: never) => void>>();
  ws.onmessage = (e: MessageEvent<string>) => {
    const f = decodeFrame(e.data) as HostFrame;
    if (f.t === 'event') {
      for (const l of listeners.get(f.event) ?? []) l(f.payload as never);
      return;
    }
    const p = pending.get(f.id);
    if (!p) return;
    pending.delete(f.id);
    if (f.t === 'result') p.resolve(f.result);
    else p.reject(Object.assign(new Error(f.error.message), { code: f.error.code }));
  };
  ws.onclose = () => {
    for (const p of pending.values()) p.reject(new Error('the connection to vmlab closed'));
    pending.clear();
    onClose();
  };
  const api: LabApi = {
    call(method, params) {
      if (ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error('not connected to vmlab'));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        ws.send(encodeFrame({ t: 'call', id, method, params }));
      });
    },
    on<E extends LabEventName>(event: E, listener: (payload: LabEvents[E]) => void) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      const l = listener as (payload: never) => void;
      set.add(l);
      return () => set.delete(l);
    },
  };
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(api);
    ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
  });
}
