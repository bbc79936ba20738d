// The app's state and actions: workspace files, open documents (Monaco models), live assembler
// diagnostics, machines with their debug information, breakpoints and the register view.

import * as monaco from 'monaco-editor';
import {
  CPU_MODEL, MACHINE_MODES, parseCpuSpec, type AddressSpace, type AssembleResult, type ConsoleLogInfo, type FileEntry, type LabApi, type LineMapEntry,
  type MachineConfig, type MachineMode, type MachineStatus, type RegisterSnapshot, type SymbolEntry,
} from '../../../shared/lab-api';
import { kernelChoices } from './boot-files';
import { CompareSession } from './compare-session.svelte';
import { LANGUAGE_ID } from './riscv-language';
import { StatsHistory } from './stats-history.svelte';

/** Delay between the last keystroke and a diagnostics run (ms). */
export const CHECK_DELAY = 350;
/** How long a message saying what an action did stays in the status bar. */
export const INFO_MESSAGE_MS = 20_000;

/** An open file. */
export class Doc {
  dirty = $state(false);
  errors = $state(0);
  private savedVersion: number;
  timer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly path: string, readonly model: monaco.editor.ITextModel) {
    this.savedVersion = model.getAlternativeVersionId();
  }

  /** Marks the current text as saved. */
  markSaved(): void {
    this.savedVersion = this.model.getAlternativeVersionId();
    this.dirty = false;
  }

  /** Recomputes dirty from the undo history (undoing back to the saved text is clean). */
  refreshDirty(): void {
    this.dirty = this.model.getAlternativeVersionId() !== this.savedVersion;
  }
}

/** Where the page remembers the machine it showed last (by name: ids change when the app restarts). */
const SELECTED_KEY = 'vmlab.selectedMachine';
const VIEW_KEY = 'vmlab.centerView';
/** The editor's open files and the one shown, so a reload opens them again. */
const OPEN_FILES_KEY = 'vmlab.openFiles';

/** A machine and what the debugger knows of its program. */
export class MachineView {
  status = $state<MachineStatus>() as MachineStatus;
  /** The MIPS of the last interval it ran (0 when none was measured since it was made or reset), shown once it stops. */
  lastMips = $state(0);
  /** Console bytes received before a terminal attached. */
  backlog: Uint8Array[] = [];
  sink: ((data: Uint8Array) => void) | undefined;
  /** Bytes of the console's whole output this page has shown (the offset the next chunk should have). */
  private received = 0;
  /** Whether F5 started it for its source (F5 replaces it; a machine from the New VM form it leaves alone). */
  launched = false;
  /** The source text F5 built it from (unknown for a machine this page did not start). */
  builtText: string | undefined;
  /** While the host's scrollback is on its way, live chunks wait here (then those it covers are dropped). */
  private waiting: { data: Uint8Array; offset: number }[] | undefined;

  /** Source line of each address of the build it runs (state: the pc's line shows once it arrives after a reload). */
  lineMap = $state.raw<LineMapEntry[]>([]);
  symbols = $state.raw<SymbolEntry[]>([]);

  constructor(status: MachineStatus, readonly source: string | undefined, lineMap: LineMapEntry[], symbols: SymbolEntry[]) {
    this.status = status;
    this.lineMap = lineMap;
    this.symbols = symbols;
  }

  /** Marks the console as waiting for the host's scrollback (a machine this page did not create). */
  awaitScrollback(): void {
    this.waiting ??= [];
  }

  /** The host's scrollback: shown first, then the live chunks that came meanwhile and are newer. */
  scrollback(log: ConsoleLogInfo): void {
    const held = this.waiting ?? [];
    this.waiting = undefined;
    this.output(log.data, log.end - log.data.length);
    for (const c of held) this.output(c.data, c.offset);
  }

  /** Whether this is a VM of the VMM (not a bare machine). */
  get isVm(): boolean {
    return this.status.mode !== 'bare';
  }

  /**
   * Delivers console output that starts at byte `offset` of the console's whole output to the
   * terminal (or keeps it until one attaches); bytes already shown are skipped.
   */
  output(data: Uint8Array, offset: number): void {
    if (this.waiting) {
      this.waiting.push({ data, offset });
      return;
    }
    const end = offset + data.length;
    if (end <= this.received) return;
    const fresh = offset < this.received ? data.subarray(this.received - offset) : data;
    this.received = end;
    if (this.sink) this.sink(fresh);
    else this.backlog.push(fresh);
  }

  /** Source line of `pc`, when the program's line map has it. */
  lineOf(pc: number): number | undefined {
    let best: LineMapEntry | undefined;
    for (const e of this.lineMap) {
      if (e.address === pc) return e.line;
      if (e.address < pc && (!best || e.address > best.address)) best = e;
    }
    return best && pc - best.address < 8 ? best.line : undefined;
  }

  /** First address of a source line. */
  addressOf(line: number): number | undefined {
    return this.lineMap.find((e) => e.line === line)?.address;
  }
}

/** What the center pane shows: the editor, or one of the inspector views. */
export type CenterView = 'editor' | 'page-tables' | 'tlb' | 'translations' | 'statistics' | 'compare' | 'disks';

/** The center views in the order of their tabs, with their titles. */
export const CENTER_VIEWS: readonly { readonly id: CenterView; readonly title: string }[] = [
  { id: 'editor', title: 'Editor' },
  { id: 'page-tables', title: 'Page tables' },
  { id: 'tlb', title: 'TLB' },
  { id: 'translations', title: 'Translations' },
  { id: 'statistics', title: 'Statistics' },
  { id: 'compare', title: 'Compare' },
  { id: 'disks', title: 'Disks' },
];

/** How F5 (and F10/F11 with no machine) runs the editor's file: the mode and `--cpu` text. */
export interface RunConfig {
  mode: MachineMode;
  cpu: string;
}

/** Where the run configuration is remembered between sessions. */
const RUN_CONFIG_KEY = 'vmlab.runConfig';

function loadRunConfig(): RunConfig {
  const fallback: RunConfig = { mode: 'bare', cpu: CPU_MODEL };
  try {
    const saved = JSON.parse(localStorage.getItem(RUN_CONFIG_KEY) ?? 'null') as Partial<RunConfig> | null;
    return {
      mode: MACHINE_MODES.includes(saved?.mode as MachineMode) ? (saved!.mode as MachineMode) : fallback.mode,
      cpu: typeof saved?.cpu === 'string' ? saved.cpu : fallback.cpu,
    };
  } catch {
    return fallback;
  }
}

/** Where the editor's breakpoints are kept, so a reload shows (and the host keeps) the same ones. */
const BREAKPOINTS_KEY = 'vmlab.breakpoints';

function loadBreakpoints(): Record<string, number[]> {
  try {
    const saved = JSON.parse(localStorage.getItem(BREAKPOINTS_KEY) ?? '{}') as Record<string, unknown>;
    const out: Record<string, number[]> = {};
    for (const [path, lines] of Object.entries(saved)) {
      if (Array.isArray(lines)) out[path] = lines.filter((l): l is number => Number.isInteger(l) && l > 0);
    }
    return out;
  } catch {
    return {};
  }
}

/** The whole app state. */
export class LabState {
  #view = $state<CenterView>(storedView());
  /** What the center pane shows (remembered for the next load of the page). */
  get view(): CenterView {
    return this.#view;
  }
  set view(v: CenterView) {
    this.#view = v;
    try {
      localStorage.setItem(VIEW_KEY, v);
    } catch {
      // Storage refused (a private window): the page starts in the editor.
    }
  }
  files = $state<FileEntry[]>([]);
  /** The sources the host found without `_start` at the last refresh of the files. */
  withoutStart = $state<string[]>([]);
  /** Counts refreshes of the files, so that an older answer of asm.withoutStart is dropped. */
  private filesSeq = 0;
  workspaceName = $state('');
  docs = $state<Doc[]>([]);
  #activePath = $state<string | undefined>();
  /** The file the editor shows (remembered with the open files for the next load of the page). */
  get activePath(): string | undefined {
    return this.#activePath;
  }
  set activePath(path: string | undefined) {
    this.#activePath = path;
    rememberOpenFiles(this.docs.map((d) => d.path), path);
  }
  machines = $state<MachineView[]>([]);
  currentId = $state<string | undefined>();
  registers = $state<RegisterSnapshot | undefined>();
  previousRegisters = $state<RegisterSnapshot | undefined>();
  /** Breakpoint lines per source path. */
  breakpoints = $state<Record<string, number[]>>(loadBreakpoints());
  message = $state('');
  /** An `inform` message (it goes away by itself) or a problem (it stays until the next action or ×). */
  messageKind = $state<'info' | 'problem'>('problem');
  private messageTimer: ReturnType<typeof setTimeout> | undefined;
  /** F5's run configuration (saved in localStorage whenever it changes). */
  runConfig = $state<RunConfig>(loadRunConfig());
  /** Bumped after every pause so views re-read memory. */
  pauseCount = $state(0);
  /** The last request to show an address in the memory view (`seq` makes a repeated request new). */
  memoryRequest = $state<{ readonly address: number; readonly space: AddressSpace; readonly seq: number } | undefined>();
  /** Every VM's statistics ticks since the app started (the Statistics view). */
  readonly history: StatsHistory;
  /** The compare view's last and running comparison. */
  readonly comparison: CompareSession;

  constructor(readonly lab: LabApi) {
    this.history = new StatsHistory(lab);
    this.comparison = new CompareSession(lab);
    lab.on('vm.console', ({ id, data, offset }) => this.machine(id)?.output(data, offset));
    lab.on('vm.status', (s) => this.onStatus(s));
    lab.on('vm.destroyed', ({ id }) => this.dropMachine(id));
    lab.on('fs.changed', () => void this.refreshFiles());
    lab.on('app.command', (c) => void this.attempt(() => (c.command === 'save' ? this.save() : this.saveAs(c.path))));
  }

  /** The document in the editor. */
  get active(): Doc | undefined {
    return this.docs.find((d) => d.path === this.activePath);
  }

  /** The machine the controls act on. */
  get current(): MachineView | undefined {
    return this.machines.find((m) => m.status.id === this.currentId);
  }

  /** Workspace files a machine can boot: assembly sources with `_start`, ELF images and raw `.bin` images. */
  get kernels(): readonly string[] {
    return kernelChoices(this.files, this.withoutStart).kernels;
  }

  /** The workspace's assembly sources that define no `_start` (files kernels include), which the kernel lists set apart. */
  get sourcesWithoutStart(): readonly string[] {
    return kernelChoices(this.files, this.withoutStart).withoutStart;
  }

  /** Whether any open document has unsaved changes. */
  get anyDirty(): boolean {
    return this.docs.some((d) => d.dirty);
  }

  private machine(id: string): MachineView | undefined {
    return this.machines.find((m) => m.status.id === id);
  }

  /**
   * Loads the workspace and rebuilds the page from the host (after a reload, or a restart of the
   * app): every machine with its state and console scrollback, the line map of the source each was
   * built from, the machine shown last with its registers.
   */
  async init(): Promise<void> {
    this.workspaceName = (await this.lab.call('workspace.info', {})).name;
    await this.refreshFiles();
    await this.reopenFiles();
    // A comparison that runs (or ended) while the page was away: shown as if this page had asked.
    void this.comparison.restore();
    const views: MachineView[] = [];
    for (const s of await this.lab.call('vm.list', {})) {
      if (this.machine(s.id)) continue;
      // The host names the source of F5's machines; a VM from the form is tied to its kernel's source.
      const view = new MachineView(s, s.source ?? (/\.s$/i.test(s.kernel) ? s.kernel : undefined), [], []);
      view.launched = s.source !== undefined;
      view.awaitScrollback();
      this.machines.push(view);
      views.push(view);
    }
    await Promise.all(views.map(async (view) => {
      const log = await this.lab.call('vm.consoleLog', { id: view.status.id }).catch(() => ({ data: new Uint8Array(0), end: 0 }));
      view.scrollback(log);
    }));
    // The line maps follow; the page is usable before they arrive.
    void Promise.all(views.map((view) => this.loadLineMap(view)));
    const remembered = this.machines.find((m) => m.status.name === storedSelection());
    this.currentId ??= (remembered ?? this.machines[0])?.status.id;
    // The host keeps a machine's breakpoints across a reload: make them the ones the editor shows.
    await this.pushBreakpoints();
    await this.refreshRegisters();
  }

  /** Opens the files the editor had open before the page was loaded again (those still in the workspace). */
  private async reopenFiles(): Promise<void> {
    const { paths, active } = storedOpenFiles();
    const present = new Set(this.files.filter((f) => f.kind === 'file').map((f) => f.path));
    for (const path of paths.filter((p) => present.has(p))) await this.open(path).catch(() => undefined);
    if (active !== undefined && this.docs.some((d) => d.path === active)) this.activePath = active;
  }

  /**
   * Reads the line map and symbols of the build a machine runs (for breakpoints and the pc's line),
   * as the host kept them: right even when the source was edited after the build.
   */
  private async loadLineMap(view: MachineView): Promise<void> {
    if (!view.source) return;
    const r = await this.lab.call('vm.program', { id: view.status.id }).catch(() => undefined);
    if (!r || r.lineMap.length === 0) return;
    view.lineMap = r.lineMap;
    view.symbols = r.symbols;
  }

  /** Makes `id` the machine the controls and inspectors follow. */
  select(id: string): void {
    if (this.currentId === id) return;
    this.currentId = id;
    this.dismissMessage();
    this.registers = this.previousRegisters = undefined;
    const name = this.machine(id)?.status.name;
    if (name !== undefined) rememberSelection(name);
    void this.refreshRegisters();
  }

  /**
   * Creates a machine from the VM manager's form; a kernel assembled from source gets its line map,
   * so the editor's breakpoints, run to cursor and the current line work in it as after F5.
   */
  async createVm(config: MachineConfig, start: boolean): Promise<void> {
    const built = /\.s$/i.test(config.kernel) ? await this.lab.call('asm.build', { path: config.kernel }).catch(() => undefined) : undefined;
    const status = await this.lab.call('vm.create', config);
    const debug = built?.ok ? built : undefined;
    if (!this.machine(status.id)) this.machines.push(new MachineView(status, debug && config.kernel, debug?.lineMap ?? [], debug?.symbols ?? []));
    await this.pushBreakpoints();
    this.select(status.id);
    if (start) await this.lab.call('vm.run', { id: status.id });
    this.notify(`${status.name}: created (${status.mode})`);
  }

  /**
   * Shows a machine the host made without this page asking vm.create (a snapshot's restore): its
   * console from the host's log, its line map when its kernel is a source of the workspace.
   */
  async adopt(status: MachineStatus): Promise<void> {
    if (this.machine(status.id)) return;
    const view = new MachineView(status, /\.s$/i.test(status.kernel) ? status.kernel : undefined, [], []);
    view.awaitScrollback();
    this.machines.push(view);
    const log = await this.lab.call('vm.consoleLog', { id: status.id }).catch(() => ({ data: new Uint8Array(0), end: 0 }));
    view.scrollback(log);
    await this.loadLineMap(view);
    await this.pushBreakpoints();
    this.select(status.id);
  }

  /** A VM manager button on machine `id`. */
  async control(id: string, op: 'run' | 'pause' | 'stop' | 'reset' | 'destroy'): Promise<void> {
    if (op === 'run') await this.lab.call('vm.run', { id });
    else if (op === 'pause') await this.lab.call('vm.pause', { id });
    else if (op === 'stop') await this.lab.call('vm.stop', { id });
    else if (op === 'reset') await this.lab.call('vm.reset', { id });
    else await this.lab.call('vm.destroy', { id });
    if (op === 'reset') {
      const m = this.machine(id);
      if (m) m.backlog = [];
    }
  }

  /** Opens the memory view at `address` of `space` (an inspector's click on a frame or a PTE). */
  showMemory(address: number, space: AddressSpace): void {
    this.memoryRequest = { address: address >>> 0, space, seq: (this.memoryRequest?.seq ?? 0) + 1 };
  }

  /**
   * Re-reads the file tree. Which sources define no `_start` follows without holding it up: the host
   * assembles them (the labs' sources at the first call, 0.2 s); only the latest refresh's answer is kept.
   */
  async refreshFiles(): Promise<void> {
    const seq = ++this.filesSeq;
    this.files = await this.lab.call('fs.list', {});
    void this.lab.call('asm.withoutStart', {}).then((paths) => {
      if (seq === this.filesSeq) this.withoutStart = paths;
    }, () => undefined);
  }

  /** Shows a problem in the status bar; it stays until the next action replaces it or the user dismisses it. */
  notify(text: string): void {
    this.showMessage(text, 'problem');
  }

  /** Shows what an action did in the status bar; it goes away after INFO_MESSAGE_MS. */
  inform(text: string): void {
    this.showMessage(text, 'info');
    this.messageTimer = setTimeout(() => this.dismissMessage(), INFO_MESSAGE_MS);
  }

  /** Clears the status bar's message. */
  dismissMessage(): void {
    clearTimeout(this.messageTimer);
    this.messageTimer = undefined;
    this.message = '';
  }

  private showMessage(text: string, kind: 'info' | 'problem'): void {
    clearTimeout(this.messageTimer);
    this.messageTimer = undefined;
    this.message = text;
    this.messageKind = kind;
  }

  /** Runs an action, turning failures into a status-bar message (the last action's message goes first). */
  async attempt(action: () => Promise<void>): Promise<void> {
    this.dismissMessage();
    try {
      await action();
    } catch (err) {
      this.notify(err instanceof Error ? err.message : String(err));
    }
  }

  /** Opens a file in the editor (or switches to it). */
  async open(path: string): Promise<void> {
    if (!this.docs.some((d) => d.path === path)) {
      const { text } = await this.lab.call('fs.read', { path });
      const uri = monaco.Uri.from({ scheme: 'workspace', path: `/${path}` });
      const model = monaco.editor.getModel(uri) ?? monaco.editor.createModel(text, /\.(s|asm)$/i.test(path) ? LANGUAGE_ID : 'plaintext', uri);
      model.setValue(text);
      const doc = new Doc(path, model);
      model.onDidChangeContent(() => {
        doc.refreshDirty();
        this.checkSoon(doc);
      });
      this.docs.push(doc);
      this.checkSoon(doc);
    }
    this.activePath = path;
  }

  /** Closes a document (the caller asks about unsaved changes first). */
  close(path: string): void {
    const doc = this.docs.find((d) => d.path === path);
    if (!doc) return;
    doc.model.dispose();
    this.docs = this.docs.filter((d) => d !== doc);
    this.activePath = this.activePath === path ? this.docs[0]?.path : this.activePath;
  }

  /** Saves a document. */
  async save(doc: Doc | undefined = this.active): Promise<void> {
    if (!doc) return;
    await this.lab.call('fs.write', { path: doc.path, text: doc.model.getValue() });
    doc.markSaved();
    this.notify(`saved ${doc.path}`);
  }

  /**
   * Saves a document's text as another workspace file and continues editing that file, as VS Code's
   * Save As does; the original file on disk keeps its saved contents.
   */
  async saveAs(path: string, doc: Doc | undefined = this.active): Promise<void> {
    if (!doc) return;
    const target = path.trim().replace(/^\.\//, '');
    if (target === doc.path) return this.save(doc);
    const text = doc.model.getValue();
    await this.lab.call('fs.write', { path: target, text });
    this.close(target);
    await this.open(target);
    this.close(doc.path);
    this.activePath = target;
    await this.refreshFiles();
    this.notify(`saved ${target}`);
  }

  /** Schedules live diagnostics for an assembly document. */
  checkSoon(doc: Doc): void {
    if (doc.model.getLanguageId() !== LANGUAGE_ID) return;
    clearTimeout(doc.timer);
    doc.timer = setTimeout(() => void this.check(doc), CHECK_DELAY);
  }

  private async check(doc: Doc): Promise<void> {
    const version = doc.model.getVersionId();
    const r = await this.lab.call('asm.check', { path: doc.path, text: doc.model.getValue() }).catch(() => undefined);
    if (!r || doc.model.isDisposed() || doc.model.getVersionId() !== version) return;
    this.setMarkers(doc, r);
  }

  private setMarkers(doc: Doc, r: AssembleResult): void {
    const markers = r.diagnostics.filter((d) => d.file === doc.path).map((d) => {
      const text = doc.model.getLineContent(Math.min(d.line, doc.model.getLineCount()));
      const start = d.column > 1 ? d.column : text.search(/\S/) + 1 || 1;
      return {
        severity: d.severity === 'error' ? monaco.MarkerSeverity.Error : monaco.MarkerSeverity.Warning,
        message: d.message,
        startLineNumber: d.line,
        startColumn: start,
        endLineNumber: d.line,
        endColumn: d.length > 0 ? start + d.length : text.length + 1,
      };
    });
    monaco.editor.setModelMarkers(doc.model, 'vmlab-asm', markers);
    doc.errors = markers.filter((m) => m.severity === monaco.MarkerSeverity.Error).length;
  }

  /** Toggles a breakpoint on a line of a source file. */
  async toggleBreakpoint(path: string, line: number): Promise<void> {
    const lines = this.breakpoints[path] ?? [];
    const adding = !lines.includes(line);
    this.breakpoints[path] = adding ? [...lines, line].sort((a, b) => a - b) : lines.filter((l) => l !== line);
    localStorage.setItem(BREAKPOINTS_KEY, JSON.stringify(this.breakpoints));
    await this.pushBreakpoints();
    if (adding) this.notify(this.breakpointNote(path, line));
  }

  /** Where a new breakpoint acts, for the status bar: which machines run `path`, or how to start one. */
  breakpointNote(path: string, line: number): string {
    const running = this.machines.filter((m) => m.source === path);
    if (running.length === 0) return `breakpoint at ${path}:${line}: it acts on machines started from ${path} (F5, or New VM with it), not on ${this.current ? this.current.status.name : 'other kernels'}`;
    const at = running[0].addressOf(line);
    if (at === undefined) return `breakpoint at ${path}:${line}: this line has no code, so nothing stops there`;
    return `breakpoint at ${path}:${line} (0x${at.toString(16).padStart(8, '0')}) in ${running.map((m) => m.status.name).join(', ')}`;
  }

  private async pushBreakpoints(): Promise<void> {
    for (const m of this.machines) {
      if (!m.source) continue;
      const addresses = (this.breakpoints[m.source] ?? []).map((l) => m.addressOf(l)).filter((a): a is number => a !== undefined);
      // A machine that cannot take them (gone meanwhile) must not stop the others from getting theirs.
      await this.lab.call('vm.setBreakpoints', { id: m.status.id, addresses }).catch(() => undefined);
    }
  }

  /** Changes F5's run configuration and remembers it. */
  setRunConfig(config: RunConfig): void {
    this.runConfig = { ...config };
    localStorage.setItem(RUN_CONFIG_KEY, JSON.stringify(this.runConfig));
  }

  /**
   * Builds the active source and creates a machine for it as the run configuration says (bare, or a
   * VM of the VMM, with its CPU features); `pausedAtEntry` stops at _start.
   */
  async launch(pausedAtEntry: boolean): Promise<void> {
    const doc = this.active;
    if (!doc) throw new Error('open an assembly source (.S) to run it');
    // A file made with +file without the extension holds assembly but is not built as such.
    if (!/\.s$/i.test(doc.path)) throw new Error(`'${doc.path}' is not an assembly source: only a file whose name ends in .S is assembled and run (ren renames it)`);
    const { mode } = this.runConfig;
    let cpu;
    try {
      cpu = this.runConfig.cpu.trim() === '' ? {} : parseCpuSpec(this.runConfig.cpu);
    } catch (err) {
      throw new Error(`run configuration: ${(err as Error).message}`);
    }
    for (const d of this.docs) if (d.dirty) await this.save(d);
    // Built for the mode: a pv kernel starts where QEMU puts a kernel behind its firmware.
    const built = await this.lab.call('asm.build', { path: doc.path, mode });
    this.setMarkers(doc, built);
    if (!built.ok || !built.elfPath) {
      const first = built.diagnostics.find((d) => d.severity === 'error');
      throw new Error(`${doc.path} does not assemble${first ? `: line ${first.line}: ${first.message}` : ''}`);
    }
    // What the New VM form says under its mode holds for F5's run too: a -pv kernel outside pv mode,
    // or another kernel in it, boots and then crashes. The run goes on; the status bar says why.
    const info = await this.lab.call('vm.kernelInfo', { kernel: doc.path, mode }).catch(() => undefined);
    const old = this.machines.find((m) => m.source === doc.path && m.launched);
    if (old) await this.lab.call('vm.destroy', { id: old.status.id });
    const status = await this.lab.call('vm.create', { kernel: built.elfPath, mode, source: doc.path, ...(Object.keys(cpu).length > 0 ? { cpu } : {}) });
    const view = new MachineView(status, doc.path, built.lineMap, built.symbols);
    view.launched = true;
    view.builtText = doc.model.getValue();
    this.machines.push(view);
    this.currentId = status.id;
    rememberSelection(status.name);
    this.registers = this.previousRegisters = undefined;
    await this.pushBreakpoints();
    const entry = built.symbols.find((s) => s.name === '_start')?.address ?? built.lineMap[0]?.address;
    if (pausedAtEntry && entry !== undefined) await this.lab.call('vm.runTo', { id: status.id, address: entry });
    else await this.lab.call('vm.run', { id: status.id });
    if (info !== undefined && info.notes.length > 0) this.notify(`run as ${mode}: ${info.notes.join('; ')}`);
  }

  /**
   * Whether the editor's file was changed since F5 built machine `m` from it: unsaved edits, or a
   * saved text other than the one built (a machine this page did not start: unsaved edits only).
   */
  private editedSince(m: MachineView): boolean {
    const doc = this.active;
    if (!m.launched || !doc || m.source !== doc.path) return false;
    return doc.dirty || (m.builtText !== undefined && m.builtText !== doc.model.getValue());
  }

  /**
   * What F5 does now. It continues the current machine when paused, and launches the active source
   * when nothing runs it, when the machine that ran it has ended, or when the source was edited
   * since that machine was built (so an exercise's edit runs at once; before, F5 on a running
   * machine did nothing and a paused one went on with the old build). A paused VM made from another
   * kernel is continued only while the editor shows no assembly file: with one open, F5 runs that
   * file (the VM's own ▶ in the VM manager continues it), as the README's "open a file, press F5"
   * says even when a VM is selected (VMs come back paused after a restart). 'none': the machine
   * runs the file as it is.
   */
  f5Action(): 'continue' | 'launch' | 'relaunch' | 'none' {
    const m = this.current;
    if (m && this.editedSince(m)) return 'relaunch';
    const otherSource = this.activePath !== undefined && /\.s$/i.test(this.activePath) && m?.source !== this.activePath;
    if (m?.isVm && m.status.state === 'paused' && !otherSource) return 'continue';
    if (m && m.source === this.activePath && m.status.state === 'paused') return 'continue';
    if (!m || m.source !== this.activePath || m.status.state === 'exited' || m.status.state === 'error') return 'launch';
    return 'none';
  }

  /** F5: as f5Action says; with nothing to do, says why. */
  async runOrContinue(): Promise<void> {
    const m = this.current;
    const action = this.f5Action();
    if (action === 'continue') await this.lab.call('vm.run', { id: m!.status.id });
    else if (action === 'launch') await this.launch(false);
    else if (action === 'relaunch') {
      await this.launch(false);
      this.inform(`${m!.source} was edited: F5 saved it and started ${m!.status.name} again`);
    } else if (m) this.notify(`${m.status.name} runs ${m.source ?? 'its kernel'} as it is: F6 pauses it, Shift+F5 stops it; edit the file and F5 starts it again`);
  }

  /** Pause. */
  async pause(): Promise<void> {
    const m = this.current;
    if (m) await this.lab.call('vm.pause', { id: m.status.id });
  }

  /**
   * Whether F10/F11 start the open file paused at _start instead of stepping machine `m`: as F5 runs
   * it, when the editor shows an assembly file that `m` does not run or that was edited since F5
   * built `m`. Before, F10 with traps.S open stepped the hello machine that ran last.
   */
  private stepStarts(m: MachineView | undefined): boolean {
    const path = this.activePath;
    if (!m || path === undefined || !/\.s$/i.test(path)) return false;
    return m.source !== path || this.editedSince(m);
  }

  /** F11: one instruction (launching paused at _start when nothing runs). */
  async stepInto(): Promise<void> {
    const m = this.current;
    if (this.stepStarts(m)) return this.launch(true);
    if (m?.isVm && (m.status.state === 'exited' || m.status.state === 'error')) return this.notify(`${m.status.name} has ${m.status.vmState}: reset it to run again`);
    if (!m || m.status.state === 'exited' || m.status.state === 'error') return this.launch(true);
    if (m.status.state !== 'paused') await this.lab.call('vm.pause', { id: m.status.id });
    await this.lab.call('vm.step', { id: m.status.id });
  }

  /** F10: one instruction, running calls to their return. */
  async stepOver(): Promise<void> {
    const m = this.current;
    if (this.stepStarts(m)) return this.launch(true);
    if (m?.isVm && (m.status.state === 'exited' || m.status.state === 'error')) return this.notify(`${m.status.name} has ${m.status.vmState}: reset it to run again`);
    if (!m || m.status.state === 'exited' || m.status.state === 'error') return this.launch(true);
    if (m.status.state !== 'paused') await this.lab.call('vm.pause', { id: m.status.id });
    await this.lab.call('vm.stepOver', { id: m.status.id });
  }

  /** Back one instruction: the machine is rewound to a checkpoint and replayed (docs/replay.md). */
  async reverseStep(): Promise<void> {
    const m = this.current;
    if (!m) return this.notify('start the machine first (F10 stops at _start)');
    await this.lab.call('vm.reverseStep', { id: m.status.id });
  }

  /** Back to the previous breakpoint hit, or to the start of the machine's history. */
  async reverseContinue(): Promise<void> {
    const m = this.current;
    if (!m) return this.notify('start the machine first (F10 stops at _start)');
    await this.lab.call('vm.reverseContinue', { id: m.status.id });
  }

  /** Runs to a line of the current machine's source. */
  async runToLine(line: number): Promise<void> {
    const m = this.current;
    if (!m) return this.notify('start the machine first (F10 stops at _start)');
    if (m.source !== this.activePath) return this.notify(`run to cursor: ${m.status.name} does not run ${this.activePath ?? 'this file'} (F5 starts it)`);
    const address = m.addressOf(line);
    if (address === undefined) return this.notify(`line ${line} has no code`);
    if (m.status.state !== 'paused') await this.lab.call('vm.pause', { id: m.status.id });
    await this.lab.call('vm.runTo', { id: m.status.id, address });
  }

  /** Reset: back to the reset vector, paused. */
  async reset(): Promise<void> {
    const m = this.current;
    if (!m) return;
    await this.lab.call('vm.reset', { id: m.status.id });
    m.backlog = [];
  }

  /**
   * Shift+F5: ends the debugging session of the editor's file (its bare machine goes); a VM is
   * powered off and stays (the VM manager removes it, after asking).
   */
  async stop(): Promise<void> {
    const m = this.current;
    if (!m) return;
    if (m.isVm) await this.lab.call('vm.stop', { id: m.status.id });
    else await this.lab.call('vm.destroy', { id: m.status.id });
  }

  private dropMachine(id: string): void {
    this.machines = this.machines.filter((m) => m.status.id !== id);
    if (this.currentId === id) {
      this.currentId = this.machines[0]?.status.id;
      this.registers = this.previousRegisters = undefined;
    }
  }

  private onStatus(s: MachineStatus): void {
    const m = this.machine(s.id);
    if (!m) return;
    const was = m.status.state;
    // A reset starts the count again, and with it the rate the status bar keeps.
    if (s.instret < m.status.instret) m.lastMips = 0;
    if (s.state === 'running' && s.mips > 0) m.lastMips = s.mips;
    m.status = s;
    if (s.id === this.currentId && s.state !== 'running' && (was === 'running' || s.state === 'paused' || s.state === 'exited')) {
      void this.refreshRegisters();
    }
  }

  /** Re-reads registers of the current machine, keeping the previous set for change marks. */
  async refreshRegisters(): Promise<void> {
    const m = this.current;
    if (!m) return;
    const regs = await this.lab.call('vm.registers', { id: m.status.id }).catch(() => undefined);
    if (!regs) return;
    this.previousRegisters = this.registers;
    this.registers = regs;
    this.pauseCount++;
  }
}

/** The center view the page showed last (localStorage; the editor when there is none or storage is refused). */
function storedView(): CenterView {
  try {
    const v = localStorage.getItem(VIEW_KEY);
    return CENTER_VIEWS.find((c) => c.id === v)?.id ?? 'editor';
  } catch {
    return 'editor';
  }
}

/** The editor's open files and the one shown when the page was last used (none when storage is refused). */
function storedOpenFiles(): { paths: string[]; active: string | undefined } {
  try {
    const saved = JSON.parse(localStorage.getItem(OPEN_FILES_KEY) ?? 'null') as { paths?: unknown; active?: unknown } | null;
    const paths = Array.isArray(saved?.paths) ? saved.paths.filter((p): p is string => typeof p === 'string') : [];
    return { paths, active: typeof saved?.active === 'string' ? saved.active : undefined };
  } catch {
    return { paths: [], active: undefined };
  }
}

/** Remembers the editor's open files and the one shown, for the next load of the page. */
function rememberOpenFiles(paths: string[], active: string | undefined): void {
  try {
    localStorage.setItem(OPEN_FILES_KEY, JSON.stringify({ paths, active }));
  } catch {
    // Storage refused (a private window): the page starts with no file open.
  }
}

/** The name of the machine the page showed last (localStorage; none when storage is refused). */
function storedSelection(): string | undefined {
  try {
    return localStorage.getItem(SELECTED_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Remembers the machine the page shows, for the next load of the page. */
function rememberSelection(name: string): void {
  try {
    localStorage.setItem(SELECTED_KEY, name);
  } catch {
    // Storage refused (a private window): the page starts with the first machine.
  }
}
