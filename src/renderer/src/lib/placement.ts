// The New VM form's explicit placement text: the shared reader (src/shared/placement.ts), which
// `vmlab run --place` uses too.

export { parseExplicitPlacement, type ExplicitPlacementText } from '../../../shared/placement';
