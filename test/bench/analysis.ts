/** The hand-written part of `docs/performance.md`: what the figures mean. */
export const ANALYSIS = `## Reading the figures

(analysis pending)
`;
