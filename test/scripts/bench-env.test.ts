import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { dropNodeStartExtras } from '../../bench/node-env';

describe('the bench’s child processes', () => {
  const saved = process.env.NODE_EXTRA_CA_CERTS;
  afterEach(() => {
    if (saved === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
    else process.env.NODE_EXTRA_CA_CERTS = saved;
  });

  it('start without NODE_EXTRA_CA_CERTS, which would time node parsing a certificate file', () => {
    process.env.NODE_EXTRA_CA_CERTS = '/nonexistent/bundle.crt';
    dropNodeStartExtras();
    const seen = execFileSync(process.execPath, ['-p', 'process.env.NODE_EXTRA_CA_CERTS ?? "unset"']).toString().trim();
    expect(seen).toBe('unset');
  });

  it('keep the rest of the environment', () => {
    process.env.NODE_EXTRA_CA_CERTS = '/nonexistent/bundle.crt';
    process.env.VMLAB_BENCH_ENV_PROBE = 'kept';
    dropNodeStartExtras();
    const seen = execFileSync(process.execPath, ['-p', 'process.env.VMLAB_BENCH_ENV_PROBE']).toString().trim();
    delete process.env.VMLAB_BENCH_ENV_PROBE;
    expect(seen).toBe('kept');
  });
});
