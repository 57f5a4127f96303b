// Adam (Kingma & Ba 2014, "Adam: A Method for Stochastic Optimization", arXiv:1412.6980,
// Algorithm 1) over a list of tensors, some of them pruned. A pruned weight must stay exactly 0:
// its gradient is masked before the moments see it, and the weight is masked again after the
// update, so no rounding or stale moment can move it.
import * as tf from '@tensorflow/tfjs';
import { applyMask } from './mask';

export interface AdamOptions {
  /** Decay of the first moment (default 0.9, the paper's). */
  beta1?: number;
  /** Decay of the second moment (default 0.999). */
  beta2?: number;
  /** Added to √v̂ (default 1e-8). */
  epsilon?: number;
}

/** The parameters being trained and their moments; it owns every tensor it holds. */
export class MaskedAdam {
  private current: tf.Tensor[];
  private m: tf.Tensor[];
  private v: tf.Tensor[];
  private t = 0;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;

  /**
   * `initial` are taken over (masked first where a mask is given); `masks[i]` (bool, or 0/1) of the shape of
   * parameter i or undefined for none, stay the caller's.
   */
  constructor(
    initial: tf.Tensor[],
    private readonly masks: readonly (tf.Tensor | undefined)[],
    opts: AdamOptions = {},
  ) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.epsilon = opts.epsilon ?? 1e-8;
    this.current = initial.map((p, i) => {
      const mask = masks[i];
      if (!mask) return p;
      const masked = applyMask(p, mask);
      p.dispose();
      return masked;
    });
    this.m = this.current.map((p) => tf.zerosLike(p));
    this.v = this.current.map((p) => tf.zerosLike(p));
  }

  /** The parameters now (valid until the next update). */
  get params(): readonly tf.Tensor[] {
    return this.current;
  }

  /** Updates done so far. */
  get steps(): number {
    return this.t;
  }

  /** One update at learning rate `lr` from `grads` (one per parameter), which are disposed. */
  update(grads: tf.Tensor[], lr: number): void {
    this.t++;
    const { beta1, beta2, epsilon, t } = this;
    const next = tf.tidy(() =>
      this.current.map((p, i) => {
        const mask = this.masks[i];
        const g = mask ? applyMask(grads[i], mask) : grads[i];
        const m = tf.add(tf.mul(this.m[i], beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.v[i], beta2), tf.mul(tf.square(g), 1 - beta2));
        const mHat = tf.div(m, 1 - beta1 ** t);
        const vHat = tf.div(v, 1 - beta2 ** t);
        const stepped = tf.sub(p, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), epsilon)), lr));
        return [mask ? applyMask(stepped, mask) : stepped, m, v];
      }),
    );
    tf.dispose([...this.current, ...this.m, ...this.v, ...grads]);
    this.current = next.map((x) => x[0]);
    this.m = next.map((x) => x[1]);
    this.v = next.map((x) => x[2]);
  }

  dispose(): void {
    tf.dispose([...this.current, ...this.m, ...this.v]);
  }
}
