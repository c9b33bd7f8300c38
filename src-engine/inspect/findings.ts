/**
 * Training health in plain words: rules over a run's stored health measurements, each finding
 * naming the layer, the number and a fix. The thresholds are the usual rules of thumb (an update of
 * about 1e-3 of the weights per step is healthy; Karpathy, "A Recipe for Training Neural Networks").
 */
import type { LayerHealth, NonFiniteLayer } from './health.js';

export interface HealthRecord {
  step: number;
  /** 1-based, as users count them. */
  epoch: number;
  batch: number;
  layers: LayerHealth[];
}

/** A step whose loss was not finite, with the first layer that went non-finite (null: the loss itself overflowed). */
export interface NonFiniteStep {
  step: number;
  epoch: number;
  batch: number;
  loss: number;
  layer: NonFiniteLayer | null;
}

export interface HealthFinding {
  severity: 'error' | 'warning';
  /** What the rule is about, for tests and styling. */
  rule: 'non-finite' | 'update-too-large' | 'update-too-small' | 'dead-relu' | 'exploding-gradient' | 'vanishing-gradient';
  layerIndex: number | null;
  layer: string | null;
  message: string;
  fix: string;
}

export interface FindingContext {
  learningRate?: number;
  failure?: NonFiniteStep | null;
}

/** Update/weight ratios above this are too large a step; below the small one, the weights barely move. */
export const UPDATE_RATIO_HIGH = 0.1;
export const UPDATE_RATIO_LOW = 1e-6;
/** A ReLU layer with at least this share of units dead. */
export const DEAD_FRACTION = 0.5;
/** Gradient-norm growth that counts as exploding; a first-to-last ratio that counts as vanishing. */
export const GRADIENT_GROWTH = 100;
export const GRADIENT_VANISHING = 1e-4;
/** The latest measurements a rule looks at (its median): one noisy batch is not a finding. */
const RECENT = 5;

const sci = (v: number) => v.toExponential(0).replace('e+', 'e');
const pct = (v: number) => `${Math.round(v * 100)}%`;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
}

export function healthFindings(records: HealthRecord[], context: FindingContext = {}): HealthFinding[] {
  const findings: HealthFinding[] = [];
  const f = context.failure;
  if (f) {
    const where = `loss became ${f.loss} at epoch ${f.epoch}, batch ${f.batch}`;
    findings.push({
      severity: 'error', rule: 'non-finite', layerIndex: f.layer?.index ?? null, layer: f.layer?.label ?? null,
      message: f.layer
        ? `${where}: ${f.layer.label}'s ${f.layer.what} went non-finite first (${f.layer.count.toLocaleString('en-US')} of ${f.layer.of.toLocaleString('en-US')} values)`
        : `${where}: every layer's output was finite, so the loss itself overflowed (the logits are huge)`,
      fix: `lower the learning rate${context.learningRate ? ` (${context.learningRate} → ${context.learningRate / 10})` : ''} and fork from an earlier snapshot`,
    });
  }
  if (records.length === 0) return findings;
  const recent = records.slice(-RECENT);
  const layers = recent[recent.length - 1]!.layers;
  const lr = context.learningRate;

  const ratios = layers.filter((l) => l.updateRatio !== null).map((l) => ({ l, ratio: median(recent.map((r) => r.layers[l.index]?.updateRatio ?? NaN).filter(Number.isFinite)) }));
  const worst = ratios.filter((r) => r.ratio > UPDATE_RATIO_HIGH).sort((a, b) => b.ratio - a.ratio)[0];
  if (worst) {
    findings.push({
      severity: 'error', rule: 'update-too-large', layerIndex: worst.l.index, layer: worst.l.label,
      message: `${worst.l.label}: update/weight ratio ${sci(worst.ratio)} per step (healthy is about 1e-3) — the learning rate is too high`,
      fix: `lower the learning rate about 10×${lr ? ` (${lr} → ${lr / 10})` : ''}, then look again`,
    });
  } else if (ratios.length > 0 && ratios.every((r) => r.ratio < UPDATE_RATIO_LOW)) {
    const top = ratios.sort((a, b) => b.ratio - a.ratio)[0]!;
    findings.push({
      severity: 'warning', rule: 'update-too-small', layerIndex: null, layer: null,
      message: `the weights barely move: the largest update/weight ratio is ${sci(top.ratio)} per step (${top.l.label}; healthy is about 1e-3)`,
      fix: `raise the learning rate${lr ? ` (${lr} → ${lr * 10})` : ''}`,
    });
  }

  for (const l of layers) {
    if (l.deadFraction === null) continue;
    const dead = median(recent.map((r) => r.layers[l.index]?.deadFraction ?? 0));
    if (dead < DEAD_FRACTION) continue;
    // since the earliest measurement from which it stayed dead
    let since = records.length - 1;
    while (since > 0 && (records[since - 1]!.layers[l.index]?.deadFraction ?? 0) >= DEAD_FRACTION) since--;
    findings.push({
      severity: dead >= 0.9 ? 'error' : 'warning', rule: 'dead-relu', layerIndex: l.index, layer: l.label,
      message: `${l.label}: ${pct(dead)} of ReLUs dead since epoch ${records[since]!.epoch} (0 for every image of the batch)`,
      fix: 'lower the learning rate or use He init (a large step can push a unit below zero for every input, and it never learns again)',
    });
  }

  const norms = (r: HealthRecord) => r.layers.map((l) => l.gradientNorm).filter((g): g is number => g !== null && Number.isFinite(g));
  const first = norms(records[0]!);
  const last = recent.map(norms);
  if (first.length && last.length && last[0]!.length) {
    const growth = median(last.map((n) => Math.max(...n))) / Math.max(Math.max(...first), 1e-30);
    if (records.length > 1 && growth > GRADIENT_GROWTH) {
      findings.push({
        severity: 'warning', rule: 'exploding-gradient', layerIndex: null, layer: null,
        message: `gradients grew ${Math.round(growth).toLocaleString('en-US')}× since the first measurement (largest layer norm ${sci(median(last.map((n) => Math.max(...n))))})`,
        fix: 'lower the learning rate, or add batch norm between the layers',
      });
    }
    const withParams = layers.filter((l) => l.gradientNorm !== null);
    if (withParams.length >= 2) {
      const a = withParams[0]!, b = withParams[withParams.length - 1]!;
      const ratio = median(recent.map((r) => (r.layers[a.index]!.gradientNorm ?? 0) / Math.max(r.layers[b.index]!.gradientNorm ?? 0, 1e-30)));
      if (ratio < GRADIENT_VANISHING) {
        findings.push({
          severity: 'warning', rule: 'vanishing-gradient', layerIndex: a.index, layer: a.label,
          message: `gradients vanish on the way back: ${a.label}'s norm is ${sci(ratio)} of ${b.label}'s`,
          fix: 'use ReLU with He init (the default), batch norm, or fewer layers',
        });
      }
    }
  }
  return findings;
}
