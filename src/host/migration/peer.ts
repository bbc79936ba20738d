// One end of a migration connection: frames in order, with the first problem (a dropped
// connection, a malformed frame, an ERROR from the peer) kept and reported once, in one line.

import { connect, type Socket } from 'node:net';
import { FrameReader, messageName, MessageType, parseJson, PeerError, type Frame } from './protocol';

/** How long a peer may stay silent while an answer or the next frame is due. */
export const PEER_TIMEOUT_MS = 10_000;

/** A migration connection. */
export class Peer {
  private readonly reader = new FrameReader();
  private readonly queue: Frame[] = [];
  private waiter: { resolve: (f: Frame) => void; reject: (e: Error) => void } | undefined;
  /** The first problem; once set, every wait fails with it. */
  error: Error | undefined;
  private frameHandler: ((f: Frame) => void) | undefined;
  private endHandler: ((error: Error) => void) | undefined;
  /** Whether a whole frame has come from the peer yet. */
  private framed = false;
  /** Whether this side connected (to what should be a `vmlab host`) rather than accepted. */
  private dialled = false;

  constructor(readonly socket: Socket, readonly name: string) {
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => {
      if (this.error !== undefined) return;
      let frames: Frame[];
      try {
        frames = this.reader.push(data);
      } catch (err) {
        // Bytes that are no frame before any frame came: another server listens there (a web-mode
        // vmlab, say), not `vmlab host`.
        this.fail(new Error(this.framed || !this.dialled ? `${name} sent ${(err as Error).message}` : `${name} is not a vmlab host: what it sent is no migration frame (start \`vmlab host --port ${socket.remotePort}\` there)`));
        socket.destroy();
        return;
      }
      if (frames.length > 0) this.framed = true;
      for (const f of frames) this.deliver(f);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => this.fail(new Error(`the connection to ${name} broke (${err.code ?? err.message})`)));
    socket.on('close', () => this.fail(new Error(`${name} closed the connection`)));
  }

  /** Frames after the handshake (console bytes, the end) go here when set. */
  get onFrame(): ((f: Frame) => void) | undefined {
    return this.frameHandler;
  }

  /**
   * Frames that came before the handler was set go to it first: the peer's next frames may arrive in
   * the same read as the answer the caller awaited (RESUMED, then console output and EXIT from a
   * guest that prints at once), and they are queued while the caller's await resolves.
   */
  set onFrame(handler: ((f: Frame) => void) | undefined) {
    this.frameHandler = handler;
    while (handler !== undefined && this.frameHandler === handler && this.queue.length > 0) handler(this.queue.shift()!);
  }

  /** Called once when the connection ends or breaks (at once when it has already). */
  get onEnd(): ((error: Error) => void) | undefined {
    return this.endHandler;
  }

  set onEnd(handler: ((error: Error) => void) | undefined) {
    this.endHandler = handler;
    if (handler !== undefined && this.error !== undefined) handler(this.error);
  }

  /** Connects to a vmlab on 127.0.0.1:`port`. */
  static connect(port: number, timeoutMs = 5000): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no answer from 127.0.0.1:${port} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        const peer = new Peer(socket, `127.0.0.1:${port}`);
        peer.dialled = true;
        resolve(peer);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new Error(err.code === 'ECONNREFUSED' ? `nothing listens on 127.0.0.1:${port} (start \`vmlab host --port ${port}\` there)` : `cannot connect to 127.0.0.1:${port}: ${err.message}`));
      });
    });
  }

  private deliver(f: Frame): void {
    if (this.frameHandler !== undefined) {
      this.frameHandler(f);
      return;
    }
    if (this.waiter !== undefined) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve(f);
    } else {
      this.queue.push(f);
    }
  }

  private fail(error: Error): void {
    if (this.error !== undefined) return;
    this.error = error;
    this.waiter?.reject(error);
    this.waiter = undefined;
    this.endHandler?.(error);
  }

  /**
   * The next frame; an ERROR frame from the peer rejects with its message, and so does a peer that
   * sends nothing for `timeoutMs` (the connection is dropped then).
   */
  async next(timeoutMs = PEER_TIMEOUT_MS): Promise<Frame> {
    const queued = this.queue.shift();
    const f = queued ?? await new Promise<Frame>((resolve, reject) => {
      if (this.error !== undefined) return reject(this.error);
      const timer = setTimeout(() => {
        this.fail(new Error(`${this.name} sent nothing for ${timeoutMs / 1000} s`));
        this.socket.destroy();
      }, timeoutMs);
      this.waiter = {
        resolve: (v) => { clearTimeout(timer); resolve(v); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
    });
    if (f.type === MessageType.ERROR) {
      const message = parseJson(f, PeerError).message;
      const err = new Error(`${this.name} refused: ${message}`);
      this.fail(err);
      throw err;
    }
    return f;
  }

  /** The next frame, which must be of `type`. */
  async expect(type: MessageType, timeoutMs = PEER_TIMEOUT_MS): Promise<Frame> {
    const f = await this.next(timeoutMs);
    if (f.type !== type) {
      const err = new Error(`${this.name} sent ${messageName(f.type)} where ${messageName(type)} belongs`);
      this.fail(err);
      this.socket.destroy();
      throw err;
    }
    return f;
  }

  /** Sends bytes; false when they wait in the socket's buffer. */
  send(bytes: Uint8Array): boolean {
    if (this.error !== undefined || this.socket.destroyed) return false;
    return this.socket.write(bytes);
  }

  /** Whether everything sent has left the process. */
  get drained(): boolean {
    return this.socket.writableLength === 0;
  }

  /** Resolves once everything sent has left the process, or the connection failed. */
  async drain(): Promise<void> {
    const socket = this.socket;
    if (this.drained || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        socket.off('drain', done).off('close', done);
        resolve();
      };
      socket.on('drain', done).on('close', done);
    });
  }

  /** Ends the connection (after what was sent). */
  close(): void {
    this.socket.end();
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.socket.destroy();
  }
}
