// Child process of the crash test: runs the crash-ops workload on an image and prints "ack N" once the
// flush that follows operation N has returned. The test kills it with SIGKILL at a random moment.
// Usage: crash-child IMAGE SEED COUNT
import { writeSync } from 'node:fs';
import { openDisk } from '../../src/host/disk-files';
import { crashOps, stamped } from './crash-ops';

const [image, seedText, countText] = process.argv.slice(2);
const disk = openDisk(image);
const ops = crashOps(Number(seedText), Number(countText), disk.size / 512);
writeSync(1, 'ready\n');
ops.forEach((op, i) => {
  const at = op.sector * 512;
  if (op.kind === 'write') disk.write(at, stamped(op.count, op.stamp));
  else if (op.kind === 'zero') disk.writeZeroes(at, op.count * 512);
  else if (op.kind === 'discard') disk.discard(at, op.count * 512);
  else {
    disk.flush();
    writeSync(1, `ack ${i}\n`);
  }
});
disk.close();
writeSync(1, 'done\n');
