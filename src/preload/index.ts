// The sandboxed preload: exposes the LabApi as window.lab through contextBridge and nothing else.
// Unknown methods and events are refused here, before anything reaches the main process.

import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { LAB_EVENTS, LAB_METHODS, type LabApi, type LabEventName, type LabMethod } from '../shared/lab-api';
import { CALL_CHANNEL, EVENT_CHANNEL, type IpcReply } from '../shared/ipc';

const methods = new Set<string>(LAB_METHODS);
const events = new Set<string>(LAB_EVENTS);

const lab: LabApi = {
  async call(method, params) {
    if (typeof method !== 'string' || !methods.has(method)) throw new Error(`unknown LabApi method '${String(method)}'`);
    const reply = (await ipcRenderer.invoke(CALL_CHANNEL, method as LabMethod, params)) as IpcReply;
    if (!reply.ok) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
    return reply.value as never;
  },
  on(event, listener) {
    if (typeof event !== 'string' || !events.has(event)) throw new Error(`unknown LabApi event '${String(event)}'`);
    const handler = (_e: IpcRendererEvent, name: LabEventName, payload: unknown): void => {
      if (name === event) listener(payload as never);
    };
    ipcRenderer.on(EVENT_CHANNEL, handler);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, handler);
    };
  },
};

contextBridge.exposeInMainWorld('lab', lab);
