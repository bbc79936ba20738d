// `vmlab snapshot info FILE`: what a snapshot file holds (mode, kernel, memory, progress, disks).

import type { Command } from 'commander';
import { describeSnapshot, readSnapshotFile } from '../../host/snapshot-file';

/** Registers `vmlab snapshot`. */
export function registerSnapshot(program: Command): void {
  const snapshot = program.command('snapshot').description('inspect snapshot files written by vmlab run --save-snapshot');
  snapshot
    .command('info')
    .description('describe a snapshot file: mode, kernel, memory, CPU, boot files, progress, disks')
    .argument('<file>', 'snapshot file')
    .option('--json', 'print the header as JSON (without the machine state)')
    .action((file: string, opts: { json?: boolean }) => {
      const s = readSnapshotFile(file);
      if (opts.json) {
        const { machine: _machine, vm: _vm, ramPages, ...rest } = s.header;
        process.stdout.write(JSON.stringify({ ...rest, ramPages: ramPages.length }, null, 2) + '\n');
      } else {
        process.stdout.write(describeSnapshot(file, s));
      }
    });
}
