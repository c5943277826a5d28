"""The convention card printed in every REPORT.md: what each number of the report means."""

from __future__ import annotations

from .summaries import ABSOLUTE_FALLBACK_BELOW

__all__ = ["CONVENTION_CARD"]

CONVENTION_CARD = f"""\
## Convention card

**Losses** (mean over the samples, as PyTorch's `MSELoss`, `L1Loss` and `HuberLoss`), with the
residual `r = X @ coef + intercept - y`:

| loss | objective | derivative in `r` of one sample's term |
| :--- | :--- | :--- |
| `l2` | `mean(r**2)` | `2 r` |
| `l1` | `mean(abs(r))` | `sign(r)`, with `sign(0) = 0` |
| `huber` (`delta`) | `mean(0.5 r**2 if abs(r) <= delta else delta (abs(r) - delta/2))` | `r`, or `delta sign(r)` |

**Update rules** (those of `torch.optim`; `g_t` is the gradient of the mean loss over the batch of
step `t` (1-based), `lr` the learning rate, `wd` the weight decay):

- **SGD** (`momentum` m, `dampening` d, `nesterov`): `g_t += wd * w`; `b_1 = g_1` (the buffer starts as
  the first gradient, not zero), `b_t = m b_(t-1) + (1 - d) g_t`; `w -= lr * b_t`, or with Nesterov
  `w -= lr * (g_t + m b_t)`; with `m = 0` it is plain `w -= lr * g_t`.
- **Adam** (`betas` = (b1, b2), `eps`): `g_t += wd * w`; `m_t = b1 m + (1 - b1) g_t`,
  `v_t = b2 v + (1 - b2) g_t**2`; bias correction `m^ = m_t / (1 - b1**t)`, `v^ = v_t / (1 - b2**t)`;
  `w -= lr * m^ / (sqrt(v^) + eps)` (`eps` outside the square root).
- **AdamW**: decoupled decay `w *= 1 - lr * wd`, then the Adam step with no decay in the gradient.
- **RMSprop**, **Adagrad**: as `torch.optim`, with its parameter names and defaults.
- Weight decay acts on the coefficients only: **it never touches the intercept**.

**Methods and batches**: `batch` = full-batch gradient descent (one update per epoch, written
`batch_size = n_samples` in the tables); `sgd` = batches of 1; `minibatch` = batches of `batch_size`;
`adam` = Adam on mini-batches.  Every epoch shuffles the rows with a permutation drawn from
`(seed, epoch)`; batches are consecutive slices of it; the last, smaller batch is kept and its
gradient averaged over its own size.

**Timing**: JIT compilation happens before timing and is reported separately (`compile_s`);
evaluating the full loss for the convergence curves is excluded from the training time `time_s`.
A repetition's epoch time is the median over its epochs; the report shows the median over
repetitions with the fastest and slowest epoch [min–max].  Speed-up = peer time / fastgd time.

**Optimum and errors**: `f*` is certified where possible (L2: normal equations in float64; L1: the
exact least-absolute-deviations LP solved by HiGHS), otherwise it is the best loss seen across all
runs of that dataset and loss.  Suboptimality = `loss - f*`; relative suboptimality =
`(loss - f*) / |f*|` (the absolute gap when `|f*| <= {ABSOLUTE_FALLBACK_BELOW:g}`); time to target =
training time of the first recorded point at or below the target, "not reached" otherwise;
coefficient error = `||coef - coef*|| / ||coef*||` over the coefficients, intercept excluded.
"""
