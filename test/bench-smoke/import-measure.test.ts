import { describe, expect, it } from 'vitest';
import { measureI1 } from '../bench/i1-import.js';

// I1 with one process per entry point, on the compiled build (make test builds it first).
describe('bench measure I1, tiny size', () => {
  it('times each driver import and reads the memory it adds', async () => {
    const rows = await measureI1({ rounds: 1 });
    expect(rows.map((r) => `${r.scale} ${r.unit}`)).toEqual([
      'import drivetrain/k8s ms',
      'import drivetrain/k8s ms CPU',
      'import drivetrain/k8s MiB RSS',
      'import drivetrain/docker ms',
      'import drivetrain/docker ms CPU',
      'import drivetrain/docker MiB RSS',
    ]);
    for (const row of rows) expect(row.subject.value.median).toBeGreaterThan(0);
    // Importing either driver grows the process (its own modules; the SDK loads with the first driver).
    for (const row of rows.filter((r) => r.unit === 'MiB RSS')) expect(row.subject.value.median).toBeGreaterThan(row.baseline!.value.median + 5);
  }, 120_000);
});
