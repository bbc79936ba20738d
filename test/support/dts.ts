// Device trees read back through dtc, for comparing vmlab's tree with QEMU's dumpdtb: parse the DTS
// into node path -> property -> value text, resolve phandles to node paths, flatten to sorted lines.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { requireTool } from './tools';

const run = promisify(execFile);

/** node path -> property name -> value text as dtc prints it. */
export type Tree = Map<string, Map<string, string>>;

/** Nodes of QEMU's virt tree for devices vmlab does not model. */
export const NOT_MODELLED = new Set(['/pmu', '/fw-cfg@10100000', '/flash@20000000', '/platform-bus@4000000', '/soc/rtc@101000', '/soc/pci@30000000']);
/** Properties vmlab leaves out (runs are deterministic, so no random seed). */
export const LEFT_OUT = new Set(['/chosen:rng-seed']);
/** Properties vmlab adds: dtc wants #address-cells in interrupt providers. */
export const ADDED = /^\/cpus\/cpu@[0-9a-f]+\/interrupt-controller:#address-cells$/;
/** Properties whose cells are phandles, and how many cells each reference takes (phandle + args). */
const PHANDLE_PROPS: Record<string, number> = { 'interrupt-parent': 1, regmap: 1, cpu: 1, 'interrupts-extended': 2 };

/** Decompiles a blob file with dtc; returns the DTS text and dtc's diagnostics. */
export async function decompile(dtb: string): Promise<{ dts: string; stderr: string }> {
  const dtc = requireTool('dtc', 'device-tree-compiler');
  const { stdout, stderr } = await run(dtc, ['-I', 'dtb', '-O', 'dts', dtb]);
  return { dts: stdout, stderr };
}

/** Parses dtc's DTS output (one property per line) into node path -> property -> value text. */
export function parseDts(dts: string): Tree {
  const tree: Tree = new Map();
  const stack: string[] = [];
  for (const raw of dts.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('/dts-v1/')) continue;
    const open = /^(\S+) \{$/.exec(line);
    if (open) {
      const name = open[1];
      const path = name === '/' ? '/' : `${stack.length <= 1 ? '' : stack[stack.length - 1]}/${name}`;
      stack.push(path);
      tree.set(path, new Map());
      continue;
    }
    if (line === '};') {
      stack.pop();
      continue;
    }
    const prop = /^([^=\s]+)(?: = (.*))?;$/.exec(line);
    if (!prop) throw new Error(`unexpected DTS line: ${line}`);
    tree.get(stack[stack.length - 1])!.set(prop[1], prop[2] ?? '');
  }
  return tree;
}

/** Replaces phandle cells by the path of the node they name, and drops the phandle properties. */
export function resolvePhandles(tree: Tree): Tree {
  const byPhandle = new Map<number, string>();
  for (const [path, props] of tree) {
    const ph = props.get('phandle');
    if (ph) byPhandle.set(parseInt(/<(\S+)>/.exec(ph)![1], 16), path);
  }
  const out: Tree = new Map();
  for (const [path, props] of tree) {
    const resolved = new Map<string, string>();
    for (const [name, value] of props) {
      if (name === 'phandle') continue;
      const stride = PHANDLE_PROPS[name];
      if (stride === undefined) {
        resolved.set(name, value);
        continue;
      }
      const cells = /^<(.*)>$/.exec(value)![1].split(' ').map((c) => parseInt(c, 16));
      const parts: string[] = [];
      for (let i = 0; i < cells.length; i += stride) {
        parts.push([byPhandle.get(cells[i]) ?? `?${cells[i]}`, ...cells.slice(i + 1, i + stride)].join(' '));
      }
      resolved.set(name, parts.join(', '));
    }
    out.set(path, resolved);
  }
  return out;
}

/** Flattens a tree to sorted "path:prop = value" lines. */
export function lines(tree: Tree): string[] {
  const out: string[] = [];
  for (const [path, props] of tree) {
    out.push(`${path}`);
    for (const [name, value] of props) out.push(`${path}:${name} = ${value}`);
  }
  return out.sort();
}

/** QEMU's tree without the devices and properties vmlab leaves out on purpose. */
export function modelledPart(qemu: Tree): Tree {
  const expected: Tree = new Map();
  for (const [path, props] of qemu) {
    if ([...NOT_MODELLED].some((n) => path === n || path.startsWith(`${n}/`))) continue;
    expected.set(path, new Map([...props].filter(([name]) => !LEFT_OUT.has(`${path}:${name}`))));
  }
  return expected;
}

/** vmlab's tree without the properties it adds on purpose. */
export function withoutAdditions(ours: Tree): Tree {
  const out: Tree = new Map();
  for (const [path, props] of ours) out.set(path, new Map([...props].filter(([name]) => !ADDED.test(`${path}:${name}`))));
  return out;
}
