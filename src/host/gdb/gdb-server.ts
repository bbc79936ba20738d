// The gdb stub on a TCP port of 127.0.0.1 (never another interface): one debugger at a time, as
// QEMU's -gdb tcp::PORT; a second connection is closed at once while one is attached.

import { createServer, type Server, type Socket } from 'node:net';
import { GdbStub, type GdbStubOptions } from './stub';
import type { DebugTarget } from './debug-target';

/** A listening gdb stub. */
export interface GdbServer {
  readonly stub: GdbStub;
  /** The port it listens on. */
  readonly port: number;
  /** Stops listening and drops the connection. */
  close(): Promise<void>;
}

/**
 * Listens for gdb on 127.0.0.1:`port` (0: any free port); rejects with one line when the port is
 * taken. `connection` hears a debugger arrive (after the stub stopped the guest for it) and leave.
 */
export async function startGdbServer(target: DebugTarget, port: number, options: Omit<GdbStubOptions, 'send'>, connection?: (attached: boolean) => void): Promise<GdbServer> {
  let client: Socket | undefined;
  const stub = new GdbStub(target, {
    ...options,
    send: (text) => {
      if (client !== undefined && !client.destroyed) client.write(text, 'latin1');
    },
  });
  const server: Server = createServer((socket) => {
    if (client !== undefined) {
      socket.destroy();
      return;
    }
    client = socket;
    socket.setNoDelay(true);
    stub.connect();
    connection?.(true);
    socket.on('data', (chunk: Buffer) => stub.receive(new Uint8Array(chunk)));
    const gone = (): void => {
      if (client !== socket) return;
      client = undefined;
      stub.disconnect();
      connection?.(false);
    };
    socket.on('close', gone);
    socket.on('error', gone);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new Error(err.code === 'EADDRINUSE' ? `--gdb ${port}: the port is in use` : `--gdb ${port}: cannot listen: ${err.message}`));
    });
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return {
    stub,
    port: bound,
    close: () => new Promise<void>((resolve) => {
      client?.end();
      client?.destroy();
      server.close(() => resolve());
    }),
  };
}
