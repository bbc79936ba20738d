// Electron IPC channel names and reply shape for the LabApi (main process and preload).

import type { LabErrorInfo } from './lab-api';

/** ipcRenderer.invoke channel carrying (method, params). */
export const CALL_CHANNEL = 'lab:call';
/** webContents.send channel carrying (event name, payload). */
export const EVENT_CHANNEL = 'lab:event';

/** What the main process answers to a call (errors as values, so messages arrive unwrapped). */
export type IpcReply = { ok: true; value: unknown } | { ok: false; error: LabErrorInfo };
