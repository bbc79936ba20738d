// A web-mode server in a process of its own, for the tests that attack it: if a client could end
// the process, the parent sees it exit. Started by server-process.ts with `--import tsx --expose-gc`;
// argv: workspace folder, renderer folder. Over IPC it announces {port, token} and answers
// 'memory' with the heap and RSS after a full collection, and its count of open file descriptors.
import { readdirSync } from 'node:fs';
import { LabService } from '../../src/host/lab-service';
import { startWebServer } from '../../src/server/web-server';

/** What the child reports about itself. */
export interface ChildMemory {
  heapUsed: number;
  rss: number;
  fds: number;
}

const [workspace, staticDir] = process.argv.slice(2);
const service = await LabService.create({ workspace });
const server = await startWebServer({ service, staticDir });
process.on('message', (msg) => {
  if (msg === 'memory') {
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    const report: ChildMemory = { heapUsed: m.heapUsed, rss: m.rss, fds: readdirSync('/proc/self/fd').length };
    process.send?.({ memory: report });
  } else if (msg === 'stop') {
    void Promise.all([server.close(), service.dispose()]).then(() => process.exit(0));
  }
});
process.send?.({ port: server.port, token: server.token });
