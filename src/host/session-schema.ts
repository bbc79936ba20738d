// Schemas of the session requests (a page rebuilding itself after a reload), merged into
// schema.ts's table.

import { z } from 'zod';
import type { SessionMethods } from '../shared/session-api';

const id = z.string().min(1).max(64);

/** The schema of each session request's parameters. */
export const SESSION_SCHEMAS: { [M in keyof SessionMethods]: z.ZodType<SessionMethods[M][0]> } = {
  'vm.consoleLog': z.strictObject({ id }),
  'vm.program': z.strictObject({ id }),
};
