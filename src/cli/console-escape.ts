// The console escape of an interactive `vmlab run`, as QEMU's -nographic console has it (chardev
// char-mux.c): Ctrl-A, then a key. The terminal is raw, so Ctrl-C goes to the guest; Ctrl-A x is
// the way out. Keys QEMU knows and vmlab has no use for are swallowed, as QEMU swallows unknown ones.

/** The escape character, Ctrl-A (QEMU's default `-echr 0x01`). */
export const ESCAPE_CHAR = 0x01;

/** What Ctrl-A followed by a key asks for. */
export interface EscapeHandlers {
  /** Bytes for the guest's UART (everything that is not an escape sequence). */
  input(bytes: Uint8Array): void;
  /** Ctrl-A x: end the run (disks flushed and closed). */
  quit(): void;
  /** Ctrl-A h or ?: print the help. */
  help(): void;
  /** Ctrl-A s: flush the disks to their files now. */
  flush(): void;
}

/** The help Ctrl-A h prints, in QEMU's words where the key does the same. */
export const ESCAPE_HELP = [
  'C-a h    print this help',
  'C-a x    exit emulator (disks are flushed and closed)',
  'C-a s    flush disk data to the image files',
  'C-a C-a  sends C-a',
].join('\n') + '\n';

/** Splits terminal input into guest bytes and escape commands; an escape may span two chunks. */
export class ConsoleEscape {
  private escaped = false;

  constructor(private readonly handlers: EscapeHandlers) {}

  /** Takes one chunk of terminal input. */
  feed(chunk: Uint8Array): void {
    const guest: number[] = [];
    for (const b of chunk) {
      if (this.escaped) {
        this.escaped = false;
        if (b === ESCAPE_CHAR) {
          guest.push(b);
          continue;
        }
        this.deliver(guest);
        const key = String.fromCharCode(b).toLowerCase();
        if (key === 'x') {
          this.handlers.quit();
          return;
        }
        if (key === 'h' || key === '?') this.handlers.help();
        else if (key === 's') this.handlers.flush();
      } else if (b === ESCAPE_CHAR) {
        this.escaped = true;
      } else {
        guest.push(b);
      }
    }
    this.deliver(guest);
  }

  private deliver(guest: number[]): void {
    if (guest.length > 0) this.handlers.input(Uint8Array.from(guest.splice(0)));
  }
}
