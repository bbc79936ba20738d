// The sizes of the lab window's resizable panes, in CSS pixels, remembered in localStorage. Each
// has limits; the side panes also give way to the editor when the window is narrower than they
// were sized for, so the layout holds from 1280×720 up.

/** A resizable pane's size: the left sidebar, the right inspector, the bottom panel, the VM manager beside the consoles, and the memory view under the registers. */
export type PaneName = 'left' | 'right' | 'bottom' | 'vms' | 'memory';

/** Every pane's size. */
export type PaneSizes = Record<PaneName, number>;

/** Limits of each pane (px). The right pane's minimum fits a memory row with its ASCII column. */
export const PANE_LIMITS: Readonly<Record<PaneName, { readonly min: number; readonly max: number }>> = {
  left: { min: 150, max: 480 },
  right: { min: 480, max: 900 },
  bottom: { min: 140, max: 720 },
  vms: { min: 260, max: 760 },
  memory: { min: 140, max: 900 },
};

/** Width the center (editor, inspector views) keeps at least when the side panes give way. */
export const CENTER_MIN = 520;
/** Height the editor keeps at least when the bottom panel gives way. */
export const EDITOR_MIN = 220;

const KEY = 'vmlab.layout';

/**
 * Height the registers pane gets at least on a first start, where the window allows: its title, pc,
 * the x registers and the trap CSRs (Registers.svelte). At 1280×720 the memory view then keeps
 * 200 px (six rows) where it had 259 and left the registers 185; from 900 px up nothing changes.
 */
export const REGISTERS_MIN = 242;

/** The sizes a first start gets for a window of this size. */
export function defaultSizes(width: number, height: number): PaneSizes {
  const narrow = width < 1500;
  const bottom = Math.round(Math.min(320, Math.max(200, height * 0.3)));
  // Toolbar and status bar take 54 px, the splitters 4 px each.
  const beside = height - 54 - 4 - bottom - 4 - REGISTERS_MIN;
  return {
    left: narrow ? 180 : 220,
    right: narrow ? 480 : 520,
    bottom,
    vms: narrow ? 420 : 440,
    memory: Math.round(Math.min(460, Math.max(170, Math.min(height * 0.36, beside)))),
  };
}

const clamp = (name: PaneName, v: number): number => Math.round(Math.min(PANE_LIMITS[name].max, Math.max(PANE_LIMITS[name].min, v)));

/** The panes' sizes as the user left them, and the sizes in effect for the window as it is. */
export class Layout {
  sizes = $state<PaneSizes>(defaultSizes(1440, 900));
  width = $state(1440);
  height = $state(900);

  constructor(width: number, height: number) {
    this.width = width;
    this.height = height;
    const base = defaultSizes(width, height);
    try {
      const saved = JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<PaneSizes>;
      for (const name of Object.keys(base) as PaneName[]) {
        if (typeof saved[name] === 'number' && Number.isFinite(saved[name])) base[name] = clamp(name, saved[name]);
      }
    } catch {
      // A damaged entry: the defaults.
    }
    this.sizes = base;
  }

  /** The sizes in effect: the user's, with the side panes and the bottom panel giving way in a small window. */
  get effective(): PaneSizes {
    const s = { ...this.sizes };
    const spare = this.width - CENTER_MIN - 8;
    if (s.left + s.right > spare) {
      s.right = Math.max(PANE_LIMITS.right.min, Math.min(s.right, spare - s.left));
      s.left = Math.max(PANE_LIMITS.left.min, Math.min(s.left, spare - s.right));
    }
    // Toolbar and status bar take about 60 px; the bottom panel leaves the editor its minimum.
    s.bottom = Math.max(PANE_LIMITS.bottom.min, Math.min(s.bottom, this.height - 60 - EDITOR_MIN));
    s.vms = Math.min(s.vms, Math.max(PANE_LIMITS.vms.min, this.width - s.left - 8 - 360));
    return s;
  }

  /** Sets a pane's size (clamped to its limits) and remembers it. */
  set(name: PaneName, value: number): void {
    this.sizes = { ...this.sizes, [name]: clamp(name, value) };
    localStorage.setItem(KEY, JSON.stringify(this.sizes));
  }

  /** Gives a pane back its default size. */
  reset(name: PaneName): void {
    this.set(name, defaultSizes(this.width, this.height)[name]);
  }

  /** Follows the window's size. */
  resize(width: number, height: number): void {
    this.width = width;
    this.height = height;
  }
}
