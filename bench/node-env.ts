// What the bench's child processes inherit. NODE_EXTRA_CA_CERTS makes node parse the named
// certificate file at its start, before any JavaScript runs (OpenSSL 3 decodes every certificate:
// on this project's build host, where the variable names the system's bundle of about 140
// certificates, `node -e 0` ran 0.50 G host instructions with it against 0.09 G without, 0.05 to
// 0.08 CPU s against 0.01 to 0.02). vmlab makes no TLS connection, and a desktop user rarely has
// the variable set, so a start-up figure with it measures the host's settings rather than vmlab;
// QEMU, which the bench compares with, pays nothing of the kind. The bench therefore runs its
// children without it, and says so.

/** Removes NODE_EXTRA_CA_CERTS from this process's environment (so from every child's), saying so on stderr. */
export function dropNodeStartExtras(): void {
  if (process.env.NODE_EXTRA_CA_CERTS === undefined) return;
  process.stderr.write('note: NODE_EXTRA_CA_CERTS is set; the bench runs its node processes without it (it adds node\'s parsing of that certificate file to every start; docs/speed.md)\n');
  delete process.env.NODE_EXTRA_CA_CERTS;
}
