// `vmlab disk create|info|convert|check`: disk image tools in the manner of qemu-img.

import { InvalidArgumentError, type Command } from 'commander';
import { checkDisk, convertDisk, createDisk, diskInfo, humanSize, type DiskInfo } from '../../host/disk-tools';
import type { DiskFormat } from '../../host/disk-files';
import { DiskError } from '../../engine/disk/types';
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { MAX_DISK_SIZE } from '../../host/disk-schema';
import { formatSize, parseSize } from '../options';

/** `vmlab disk check` exit code: the check found corruptions (as qemu-img check). */
export const EXIT_CHECK_CORRUPT = 2;
/** `vmlab disk check` exit code: the check found only leaked clusters (as qemu-img check). */
export const EXIT_CHECK_LEAKS = 3;
/** `vmlab disk check` exit code: the check could not complete (as qemu-img check). */
export const EXIT_CHECK_INCOMPLETE = 1;
/** `vmlab disk check` exit code: the format has nothing to check (raw; as qemu-img check). */
export const EXIT_CHECK_UNSUPPORTED = 63;

/** A disk size for `create`: a size (K, M, G, T suffixes) no larger than vmlab's disks go. */
function parseDiskSize(text: string): number {
  const bytes = parseSize(text);
  if (bytes > MAX_DISK_SIZE) throw new InvalidArgumentError(`${text} is larger than vmlab's largest disk, ${formatSize(MAX_DISK_SIZE)}`);
  if (bytes === 0) throw new InvalidArgumentError('a disk needs at least one sector (512 bytes)');
  return bytes;
}

/** Refuses an output file whose folder is missing, in words (not the lock file's ENOENT). */
function checkOutputFolder(file: string): void {
  const folder = dirname(file);
  if (!existsSync(folder)) throw new Error(`cannot create '${file}': the folder '${folder}' does not exist`);
  if (!statSync(folder).isDirectory()) throw new Error(`cannot create '${file}': '${folder}' is not a folder`);
}

function parseFormat(text: string): DiskFormat {
  if (text === 'raw' || text === 'qcow2') return text;
  throw new InvalidArgumentError(`expected raw or qcow2, got '${text}'`);
}

/** Registers `vmlab disk` and its subcommands. */
export function registerDisk(program: Command): void {
  const disk = program.command('disk').description('create, inspect, convert and check disk images (raw, qcow2)');

  disk
    .command('create')
    .description('create a disk image of SIZE bytes (64M, 1G, 512K or a byte count); SIZE defaults to the backing file\'s')
    .argument('<file>', 'image file to create (an existing file is overwritten)')
    .argument('[size]', `virtual size (K, M, G, T), rounded up to 512 bytes; at most ${formatSize(MAX_DISK_SIZE)}`, parseDiskSize)
    .option('--format <format>', 'raw or qcow2', parseFormat, 'qcow2')
    .option('--backing <file>', 'backing file for a copy-on-write qcow2 overlay (relative to the new image\'s folder)')
    .option('--cluster-size <n>', 'qcow2 cluster size, a power of two from 512 to 2M (default 64K)', parseSize)
    .action((file: string, size: number | undefined, opts: { format: DiskFormat; backing?: string; clusterSize?: number }) => {
      checkOutputFolder(file);
      withFile(file, () => createDisk(file, size, opts));
      const info = diskInfo(file);
      const backing = info.backingFile === undefined ? '' : ` backing_file=${info.backingFile} backing_fmt=${info.backingFormat}`;
      const cluster = info.clusterSize === undefined ? '' : ` cluster_size=${info.clusterSize}`;
      process.stdout.write(`Formatting '${file}', fmt=${info.format}${cluster}${backing} size=${info.virtualSize}\n`);
    });

  disk
    .command('info')
    .description('describe an image: format, virtual size, size on the host, cluster size, backing file, allocated bytes')
    .argument('<file>', 'disk image')
    .option('--json', 'print JSON')
    .action((file: string, opts: { json?: boolean }) => {
      const info = withFile(file, () => diskInfo(file));
      process.stdout.write(opts.json ? JSON.stringify(info, null, 2) + '\n' : formatInfo(info));
    });

  disk
    .command('convert')
    .description('copy a disk (its backing chain flattened) into a new image; all-zero clusters are left unallocated')
    .argument('<input>', 'source image (raw or qcow2, probed)')
    .argument('<output>', 'image to create (overwritten)')
    .option('-O, --output-format <format>', 'raw or qcow2', parseFormat, 'qcow2')
    .action((input: string, output: string, opts: { outputFormat: DiskFormat }) => {
      checkOutputFolder(output);
      withFile(input, () => convertDisk(input, output, opts.outputFormat));
    });

  disk
    .command('check')
    .description('check a qcow2 image\'s metadata; exit 0 ok, 2 corruptions, 3 leaked clusters only, 1 check not completed')
    .argument('<file>', 'disk image')
    .option('--json', 'print JSON')
    .action((file: string, opts: { json?: boolean }) => {
      let result;
      try {
        result = checkDisk(file);
      } catch (err) {
        if (err instanceof DiskError && err.code === 'io' && !/ENOENT|EACCES|EISDIR/.test(err.message)) {
          process.stderr.write(`vmlab: ${file}: the check could not complete: ${err.message}\n`);
          process.exitCode = EXIT_CHECK_INCOMPLETE;
          return;
        }
        throw prefixed(file, err);
      }
      if (result === undefined) {
        process.stderr.write(`vmlab: ${file}: raw images have no metadata to check\n`);
        process.exitCode = EXIT_CHECK_UNSUPPORTED;
        return;
      }
      if (opts.json) {
        process.stdout.write(JSON.stringify({ filename: file, format: 'qcow2', ...result }, null, 2) + '\n');
      } else {
        process.stdout.write(formatCheck(result));
      }
      process.exitCode = result.checkErrors > 0 ? EXIT_CHECK_INCOMPLETE : result.corruptions > 0 ? EXIT_CHECK_CORRUPT : result.leaks > 0 ? EXIT_CHECK_LEAKS : 0;
    });
}

function withFile<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw prefixed(file, err);
  }
}

function prefixed(file: string, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  return new Error(message.includes(file) ? message : `${file}: ${message}`);
}

function formatInfo(info: DiskInfo): string {
  const lines = [
    `image: ${info.filename}`,
    `file format: ${info.format}`,
    `virtual size: ${humanSize(info.virtualSize)} (${info.virtualSize} bytes)`,
    `disk size: ${humanSize(info.diskSize)}`,
  ];
  if (info.clusterSize !== undefined) lines.push(`cluster_size: ${info.clusterSize}`);
  if (info.version !== undefined) lines.push(`qcow2 version: ${info.version}`);
  if (info.backingFile !== undefined) {
    lines.push(`backing file: ${info.backingFile}${info.fullBackingFile !== info.backingFile ? ` (actual path: ${info.fullBackingFile})` : ''}`);
    if (info.backingFormat !== undefined) lines.push(`backing file format: ${info.backingFormat}`);
  }
  lines.push(`allocated: ${humanSize(info.allocatedBytes)} (${info.allocatedBytes} bytes)`);
  return lines.join('\n') + '\n';
}

function formatCheck(r: NonNullable<ReturnType<typeof checkDisk>>): string {
  const out = r.messages.map((m) => m + '\n');
  if (r.messages.length < r.corruptions + r.leaks + r.checkErrors) out.push(`(${r.corruptions + r.leaks + r.checkErrors - r.messages.length} more problems not listed)\n`);
  if (r.corruptions === 0 && r.leaks === 0 && r.checkErrors === 0) out.push('No errors were found on the image.\n');
  if (r.corruptions > 0) out.push(`\n${r.corruptions} errors were found on the image.\nData may be corrupted, or further writes to the image may corrupt it.\n`);
  if (r.leaks > 0) out.push(`\n${r.leaks} leaked clusters were found on the image.\nThis means waste of disk space, but no harm to data.\n`);
  if (r.checkErrors > 0) out.push(`\n${r.checkErrors} internal errors have occurred during the check.\n`);
  const pct = (n: number): string => (r.totalClusters === 0 ? '0.00' : ((100 * n) / r.totalClusters).toFixed(2));
  const frag = r.allocatedClusters === 0 ? '0.00' : ((100 * r.fragmentedClusters) / r.allocatedClusters).toFixed(2);
  const comp = r.allocatedClusters === 0 ? '0.00' : ((100 * r.compressedClusters) / r.allocatedClusters).toFixed(2);
  out.push(`${r.allocatedClusters}/${r.totalClusters} = ${pct(r.allocatedClusters)}% allocated, ${frag}% fragmented, ${comp}% compressed clusters\n`);
  out.push(`Image end offset: ${r.imageEndOffset}\n`);
  return out.join('');
}
