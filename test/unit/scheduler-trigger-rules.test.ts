import { countUpstream, evaluateTriggerRule } from '../../src/scheduler/trigger-rules.js';

const ev = (rule: Parameters<typeof evaluateTriggerRule>[0], ...states: (string | null)[]) =>
  evaluateTriggerRule(rule, countUpstream(states));

describe('trigger rules (Airflow semantics)', () => {
  test('no upstream always runs', () => {
    expect(ev('all_success')).toBe('run');
    expect(ev('all_failed')).toBe('run');
  });
  test('all_success', () => {
    expect(ev('all_success', 'success', 'success')).toBe('run');
    expect(ev('all_success', 'success', null)).toBe('wait');
    expect(ev('all_success', 'success', 'failed')).toBe('upstream_failed');
    expect(ev('all_success', 'upstream_failed', null)).toBe('upstream_failed');
    expect(ev('all_success', 'success', 'skipped')).toBe('skipped');
  });
  test('all_failed', () => {
    expect(ev('all_failed', 'failed', 'upstream_failed')).toBe('run');
    expect(ev('all_failed', 'failed', null)).toBe('wait');
    expect(ev('all_failed', 'failed', 'success')).toBe('skipped');
    expect(ev('all_failed', 'skipped', null)).toBe('skipped');
  });
  test('all_done', () => {
    expect(ev('all_done', 'failed', 'success', 'skipped', 'upstream_failed')).toBe('run');
    expect(ev('all_done', 'failed', 'running')).toBe('wait');
  });
  test('one_success', () => {
    expect(ev('one_success', 'success', null)).toBe('run');
    expect(ev('one_success', 'failed', null)).toBe('wait');
    expect(ev('one_success', 'failed', 'skipped')).toBe('upstream_failed');
    expect(ev('one_success', 'skipped', 'skipped')).toBe('skipped');
  });
  test('one_failed', () => {
    expect(ev('one_failed', 'failed', null)).toBe('run');
    expect(ev('one_failed', 'upstream_failed', null)).toBe('run');
    expect(ev('one_failed', 'success', null)).toBe('wait');
    expect(ev('one_failed', 'success', 'skipped')).toBe('skipped');
  });
  test('none_failed', () => {
    expect(ev('none_failed', 'success', 'skipped')).toBe('run');
    expect(ev('none_failed', 'success', null)).toBe('wait');
    expect(ev('none_failed', 'success', 'failed')).toBe('upstream_failed');
  });
  test('none_skipped', () => {
    expect(ev('none_skipped', 'success', 'failed')).toBe('run');
    expect(ev('none_skipped', 'success', null)).toBe('wait');
    expect(ev('none_skipped', 'skipped', null)).toBe('skipped');
  });
  test('always', () => {
    expect(ev('always', null, 'running')).toBe('run');
  });
});
