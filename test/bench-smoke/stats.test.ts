import { describe, expect, it } from 'vitest';
import { interleave, ratio, summarize } from '../bench/stats.js';
import { markdownTable, renderDocument, textTable } from '../bench/report.js';
import type { BenchRow } from '../bench/row.js';
import { targetOf } from '../bench/row.js';

describe('bench statistics', () => {
  it.each([
    [[5], 5, 5, 5],
    [[3, 1, 2], 2, 1, 3],
    [[4, 1, 3, 2], 2.5, 1, 4],
  ])('summarize(%j) has median %d, min %d, max %d', (samples, median, min, max) => {
    expect(summarize(samples)).toEqual({ n: samples.length, median, min, max });
  });

  it('refuses an empty series', () => {
    expect(() => summarize([])).toThrow(RangeError);
  });

  it('ratio compares medians', () => {
    expect(ratio(summarize([2, 4, 6]), summarize([8]))).toBe(0.5);
    expect(ratio(summarize([1]), summarize([0]))).toBeNaN();
  });

  it('interleave rotates which variant goes first each round', async () => {
    const order: string[] = [];
    const samples = await interleave(3, {
      a: async () => (order.push('a'), 1),
      b: async () => (order.push('b'), 2),
    });
    expect(order).toEqual(['a', 'b', 'b', 'a', 'a', 'b']);
    expect(samples).toEqual({ a: [1, 1, 1], b: [2, 2, 2] });
  });

  it('targets say whether a value meets them', () => {
    expect(targetOf('≤ 1', 0.9, 1, 'max').met).toBe(true);
    expect(targetOf('≤ 1', 1.1, 1, 'max').met).toBe(false);
    expect(targetOf('≥ 1', 0.9, 1, 'min').met).toBe(false);
    expect(targetOf('≤ 1', Number.NaN, 1, 'max').met).toBe(false);
  });
});

describe('bench report', () => {
  const row: BenchRow = {
    id: 'P9',
    scale: '3 in sequence',
    unit: 'ms',
    subject: { label: 'subject | piped', value: summarize([1, 2, 3]) },
    baseline: { label: 'baseline', value: summarize([4]) },
    ratio: 0.5,
    target: { text: '≤ 0.9×', met: true },
    note: 'a note',
  };

  it('prints aligned text and escaped markdown with every figure', () => {
    expect(textTable([row])).toMatch(/P9\s+3 in sequence\s+subject \| piped \(n=3\)\s+2\.00 ms\s+1\.00–3\.00\s+baseline \(n=1\)\s+4\.00 ms/);
    const md = markdownTable([row]);
    expect(md).toContain('subject \\| piped (n=3)');
    expect(md).toContain('0.50×');
    expect(md.split('\n')).toHaveLength(3);
  });

  it('documents the date, the machine, notes and what was not measured', () => {
    const doc = renderDocument({
      date: new Date('2026-01-02T03:04:05.678Z'),
      machine: { cpuModel: 'CPU X', cores: 2, memoryGiB: 4, node: 'v20', docker: '20.10', kernel: '6.1' },
      rows: [row],
      skipped: [{ id: 'P7', why: 'no cluster' }],
      command: 'npm run bench',
      analysis: '## Analysis',
    });
    expect(doc).toContain('2026-01-02T03:04:05Z');
    expect(doc).toContain('CPU X, 2 cores, 4 GiB memory');
    expect(doc).toContain('- **P9 (3 in sequence)**: a note');
    expect(doc).toContain('- P7: no cluster');
    expect(doc).toContain('## Analysis');
  });
});
