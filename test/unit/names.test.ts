import { describe, expect, it } from 'vitest';
import { shortHash, toDnsLabel, defaultWorkDir } from '../../src/names.js';
import { toLabelValue } from '../../drivers/k8s/naming.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

describe('toDnsLabel', () => {
  const long = 'a'.repeat(300);
  const table: Array<[string, string]> = [
    ['build-42', 'build-42'],
    ['Build-42', `build-42-${shortHash('Build-42')}`],
    ['build_42', `build-42-${shortHash('build_42')}`],
    ['ünïcödé', `n-c-d-${shortHash('ünïcödé')}`],
    ['a/b/c', `a-b-c-${shortHash('a/b/c')}`],
    ['---', `x-${shortHash('---')}`],
    ['日本語', `x-${shortHash('日本語')}`],
    [long, `${'a'.repeat(52)}-${shortHash(long)}`],
  ];
  it.each(table)('%j → %j', (raw, expected) => {
    const name = toDnsLabel(raw);
    expect(name).toBe(expected);
    expect(name).toMatch(DNS_LABEL);
    expect(name.length).toBeLessThanOrEqual(63);
  });

  it('never maps IDs that differ only in case to one name', () => {
    const ids = ['task', 'Task', 'TASK', 'tAsK'];
    expect(new Set(ids.map((id) => toDnsLabel(id))).size).toBe(ids.length);
  });

  it('never maps two long IDs with a common 300-character prefix to one name', () => {
    const a = `${'x'.repeat(300)}-1`;
    const b = `${'x'.repeat(300)}-2`;
    expect(toDnsLabel(a)).not.toBe(toDnsLabel(b));
    expect(toDnsLabel(a).length).toBe(63);
  });

  it('honours a shorter maximum', () => {
    const name = toDnsLabel('a-very-long-name-that-does-not-fit', 20);
    expect(name.length).toBeLessThanOrEqual(20);
    expect(name).toMatch(DNS_LABEL);
  });
});

describe('toLabelValue', () => {
  const table: Array<[string, string]> = [
    ['', ''],
    ['Build_42.x', 'Build_42.x'],
    ['a/b', `a-b-${shortHash('a/b')}`],
    ['_x_', `x-${shortHash('_x_')}`],
    ['x'.repeat(64), `${'x'.repeat(52)}-${shortHash('x'.repeat(64))}`],
  ];
  it.each(table)('%j → %j', (raw, expected) => {
    const value = toLabelValue(raw);
    expect(value).toBe(expected);
    expect(value).toMatch(LABEL_VALUE);
  });
});

describe('defaultWorkDir', () => {
  it('is a per-task directory under /tmp/drivetrain named by the sanitised ID', () => {
    expect(defaultWorkDir('build-42')).toBe('/tmp/drivetrain/build-42');
    expect(defaultWorkDir('Build 42')).toMatch(/^\/tmp\/drivetrain\/build-42-[0-9a-f]{10}$/);
  });
});
