// The Electron main process: one window on the built renderer (served from the app:// scheme),
// hardened as docs/app.md describes, the lab service bound to ipcMain, menus and the native folder dialog.

import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, type WebContents } from 'electron';
import { toErrorInfo } from '../host/errors';
import { LabService } from '../host/lab-service';
import { setMachineV8Flags } from '../host/v8-flags';
import { CALL_CHANNEL, EVENT_CHANNEL, type IpcReply } from '../shared/ipc';
import { contentSecurityPolicy, seedWorkspace } from '../host/policy';

// V8's flags for the machines' worker threads, set before any starts (host/v8-flags.ts).
setMachineV8Flags();

const here = dirname(fileURLToPath(import.meta.url));
const rendererRoot = join(here, '..', 'renderer');
const preload = join(here, '..', 'preload', 'index.cjs');
const APP_ORIGIN = 'app://vmlab';

protocol.registerSchemesAsPrivileged([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.ttf': 'font/ttf', '.json': 'application/json',
};

let service: LabService | undefined;
let window: BrowserWindow | undefined;

function workspaceArg(): string {
  const i = process.argv.indexOf('--workspace');
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : join(homedir(), 'vmlab-workspace');
}

/** Serves out/renderer under app://vmlab/, nothing outside it. */
function serveRenderer(): void {
  protocol.handle('app', (req) => {
    const url = new URL(req.url);
    if (url.host !== 'vmlab') return new Response('not found', { status: 404 });
    const rel = normalize(decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname)).replace(/^[/\\]+/, '');
    const file = join(rendererRoot, rel);
    if (!file.startsWith(rendererRoot + sep) || !existsSync(file)) return new Response('not found', { status: 404 });
    return new Response(readFileSync(file), {
      headers: {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-security-policy': contentSecurityPolicy("'self'"),
      },
    });
  });
}

/** Refuses navigation, new windows, webviews and permission requests (docs/app.md). */
function harden(contents: WebContents): void {
  contents.on('will-navigate', (e, url) => {
    if (!url.startsWith(`${APP_ORIGIN}/`)) e.preventDefault();
  });
  contents.on('will-redirect', (e) => e.preventDefault());
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

function bindService(lab: LabService): void {
  ipcMain.handle(CALL_CHANNEL, async (event, method: unknown, params: unknown): Promise<IpcReply> => {
    if (!event.senderFrame || !event.senderFrame.url.startsWith(`${APP_ORIGIN}/`)) {
      return { ok: false, error: { code: 'bad-request', message: 'calls are accepted from the app only' } };
    }
    try {
      return { ok: true, value: await lab.call(String(method), params) };
    } catch (err) {
      return { ok: false, error: toErrorInfo(err) };
    }
  });
  lab.subscribe((name, payload) => {
    if (window && !window.isDestroyed()) window.webContents.send(EVENT_CHANNEL, name, payload);
  });
}

async function openFolder(): Promise<void> {
  if (!window || !service) return;
  const r = await dialog.showOpenDialog(window, { title: 'Open workspace folder', properties: ['openDirectory', 'createDirectory'] });
  if (r.canceled || r.filePaths.length === 0) return;
  await service.openWorkspace(r.filePaths[0]);
  window.webContents.reload();
}

/** File → Save As: a native dialog inside the workspace; the renderer writes the editor's text there. */
async function saveAs(): Promise<void> {
  if (!window || !service) return;
  const r = await dialog.showSaveDialog(window, { title: 'Save As', defaultPath: service.root, properties: ['createDirectory', 'showOverwriteConfirmation'] });
  if (r.canceled || !r.filePath) return;
  try {
    await service.requestSaveAs(r.filePath);
  } catch (err) {
    dialog.showErrorBox('Save As', err instanceof Error ? err.message : String(err));
  }
}

function buildMenu(): void {
  Menu.setApplicationMenu(Menu.buildFromTemplate([
    {
      label: 'File',
      submenu: [
        { label: 'Open Folder…', accelerator: 'CmdOrCtrl+O', click: () => void openFolder() },
        { type: 'separator' },
        // The renderer handles Ctrl+S itself (in web mode too); the menu shows the key and offers a click.
        { label: 'Save', accelerator: 'CmdOrCtrl+S', registerAccelerator: false, click: () => service?.requestSave() },
        { label: 'Save As…', accelerator: 'CmdOrCtrl+Shift+S', click: () => void saveAs() },
        { type: 'separator' },
        { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    { label: 'View', submenu: [{ role: 'reload' }, { role: 'toggleDevTools' }, { type: 'separator' }, { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }] },
  ]));
}

function createWindow(): void {
  window = new BrowserWindow({
    width: 1440,
    height: 900,
    title: 'vmlab',
    backgroundColor: '#1e1e1e',
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  });
  // The renderer's beforeunload handler holds back a close while files are unsaved: ask here.
  window.webContents.on('will-prevent-unload', (e) => {
    const choice = dialog.showMessageBoxSync(window!, {
      type: 'warning',
      buttons: ['Keep editing', 'Discard changes'],
      defaultId: 0,
      cancelId: 0,
      message: 'Some files have unsaved changes.',
      detail: 'Closing now discards them.',
    });
    if (choice === 1) e.preventDefault();
  });
  void window.loadURL(`${APP_ORIGIN}/index.html`);
}

app.on('web-contents-created', (_e, contents) => harden(contents));
app.on('window-all-closed', () => {
  void service?.dispose().finally(() => app.quit());
});

void app.whenReady().then(async () => {
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, callback) => callback(false));
  serveRenderer();
  const folder = workspaceArg();
  seedWorkspace(folder);
  service = await LabService.create({ workspace: folder });
  for (const problem of service.restoreProblems) process.stderr.write(`vmlab: a stored VM was not recreated: ${problem}\n`);
  bindService(service);
  buildMenu();
  createWindow();
});
