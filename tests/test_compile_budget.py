"""No silent re-specialisation: one compiled signature per dtype (run in a fresh process)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import json
    import numpy as np
    import fastgd
    from fastgd import kernels

    rng = np.random.default_rng(0)
    for _ in range(2):
        for dtype in (np.float32, np.float64):
            X = rng.standard_normal((50, 3)).astype(dtype)
            y = rng.standard_normal(50).astype(dtype)
            X_ro = X.copy(); X_ro.flags.writeable = False
            for X_variant in (X, X_ro, np.asfortranarray(X)):
                fastgd.loss_and_grad(X_variant, y, np.zeros(3, dtype), 1)      # int intercept
                fastgd.loss_value(X_variant, y, [0, 0, 0], np.float32(0.5))   # int list coef
                fastgd.predict(X_variant, np.zeros(3), 0)
            # A kernel loaded from the on-disk cache does not load the scalar kernels it
            # inlined, so call l2 directly: its count is then the same, cached or not.
            kernels.l2(dtype(0.5), dtype(1.0))
    counts = {
        name: len(getattr(kernels, name).signatures)
        for name in ("full_loss_grad", "full_loss", "predict_into", "l2")
    }
    print(json.dumps(counts))
    """
)


def test_each_kernel_holds_exactly_two_signatures():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    counts = json.loads(out.stdout.strip().splitlines()[-1])
    assert counts == {"full_loss_grad": 2, "full_loss": 2, "predict_into": 2, "l2": 2}


FIT_SCRIPT = textwrap.dedent(
    """
    import json
    import numpy as np
    import fastgd
    from fastgd.kernels import _pipeline, training

    rng = np.random.default_rng(0)
    for _ in range(2):
        for dtype in (np.float32, np.float64):
            X = rng.standard_normal((200, 4)).astype(dtype)
            y = rng.standard_normal(200).astype(dtype)
            for batch_size in (None, 1, 16):
                fastgd.fit(X, y, optimizer=fastgd.Adam(lr=0.01), batch_size=batch_size, epochs=2)
            fastgd.fit(X.astype(int), y, optimizer=fastgd.Adam(lr=0.01), batch_size=16, epochs=1)
    print(json.dumps({"run_steps": len(training.run_steps.signatures),
                      "pipelined_steps": len(_pipeline.pipelined_steps.signatures)}))
    """
)


def test_fit_compiles_its_loop_once_per_dtype():
    """A second fit (any batch size, int data converted to float64) reuses the compiled loop."""
    out = subprocess.run([sys.executable, "-c", FIT_SCRIPT], capture_output=True, text=True, check=True)
    counts = json.loads(out.stdout.strip().splitlines()[-1])
    assert counts == {"run_steps": 2, "pipelined_steps": 2}
