import { describe, expect, test } from 'vitest';
import { DEFAULT_HYPERPARAMETERS, HYPERPARAMETER_FIELDS } from '../../../src-main/contract/index.js';
import { FORK_FORM_GROUPS, RUN_FORM_GROUPS, formField, isNamed, setEarlyStopping, setValueAt, shownFields, valueAt } from './hyperparameter-form.js';

const fresh = () => structuredClone(DEFAULT_HYPERPARAMETERS);

describe('hyperparameter form', () => {
  test('the builder\'s form places every field of the contract\'s table exactly once', () => {
    const placed = RUN_FORM_GROUPS.flatMap((g) => g.paths);
    expect([...placed].sort()).toEqual(HYPERPARAMETER_FIELDS.map((f) => f.path).sort());
    expect(FORK_FORM_GROUPS.flatMap((g) => g.paths).every((p) => placed.includes(p))).toBe(true);
  });

  test('fields show only where they apply: momentum for sgd, betas for adam, early stopping when on', () => {
    const h = fresh();
    const optimizer = RUN_FORM_GROUPS.find((g) => g.title === 'Optimizer')!.paths;
    expect(shownFields(h, optimizer).map((f) => f.path)).toEqual(['optimizer.type', 'optimizer.learningRate', 'optimizer.momentum', 'optimizer.nesterov', 'optimizer.weightDecay']);
    setValueAt(h, 'optimizer.type', 'adam');
    expect(shownFields(h, optimizer).map((f) => f.path)).toEqual(['optimizer.type', 'optimizer.learningRate', 'optimizer.beta1', 'optimizer.beta2', 'optimizer.epsilon', 'optimizer.weightDecay']);
    const early = RUN_FORM_GROUPS.find((g) => g.toggle === 'earlyStopping')!.paths;
    expect(shownFields(h, early)).toEqual([]);
    setEarlyStopping(h, true);
    expect(shownFields(h, early).map((f) => f.label)).toEqual(['early stopping patience', 'early stopping min delta', 'early stopping monitor']);
    expect(h.earlyStopping).toEqual({ patience: 3, minDelta: 0, monitor: 'valLoss' });
  });

  test('a new optimizer or schedule type starts from that type\'s defaults', () => {
    const h = fresh();
    setValueAt(h, 'optimizer.learningRate', 0.5);
    setValueAt(h, 'optimizer.type', 'adam');
    expect(h.optimizer).toEqual({ type: 'adam', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 });
    setValueAt(h, 'schedule.type', 'step');
    expect(h.schedule).toEqual({ type: 'step', stepSize: 10, gamma: 0.1 });
    setValueAt(h, 'augment.maxShift', 2);
    expect(valueAt(h, 'augment.maxShift')).toBe(2);
    expect(h.augment.flipHorizontal).toBe(false);
  });

  test('a refusal\'s field marks its form field, or every field of the group it names', () => {
    expect(formField('hyperparameters.optimizer.momentum')).toBe('optimizer.momentum');
    expect(formField('validationSplit')).toBe('validationSplit');
    expect(formField(undefined)).toBeNull();
    expect(isNamed('optimizer', 'optimizer.momentum')).toBe(true);
    expect(isNamed('optimizer.momentum', 'optimizer.momentum')).toBe(true);
    expect(isNamed('optimizer.momentum', 'optimizer.learningRate')).toBe(false);
    expect(isNamed('epochs', 'epochsDone')).toBe(false);
    expect(isNamed(null, 'epochs')).toBe(false);
  });
});
