"""No allocation per step: NRT allocation counts do not grow with the number of steps.

Numba's runtime counts every allocation it makes when ``NUMBA_NRT_STATS=1``;
that must be set before Numba starts, so the measurement runs in a fresh
process.  Each compiled call is made twice, with 1 step and with many steps:
the counts must be equal (calling from Python allocates a fixed number of
array wrappers per call, whatever the work inside).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import json
    import numpy as np
    from numba.core.runtime import rtsys
    import fastgd
    from fastgd.trainer import Trainer

    data = fastgd.make_regression(3000, 6, seed=0)
    cases = {
        "batch-sgd": dict(optimizer=fastgd.SGD(lr=0.1, momentum=0.9), batch_size=None),
        "sgd-shuffled": dict(optimizer=fastgd.SGD(lr=0.001), batch_size=1),
        "minibatch-adam": dict(optimizer=fastgd.Adam(lr=0.01, amsgrad=True), batch_size=32, shuffle=False),
        "minibatch-adam-shuffled": dict(optimizer=fastgd.Adam(lr=0.01), batch_size=32),  # the two-thread pipeline
        "rmsprop": dict(optimizer=fastgd.RMSprop(centered=True, momentum=0.5), batch_size=16, loss="huber"),
        "adagrad": dict(optimizer=fastgd.Adagrad(), batch_size=8, loss="l1",
                        lr_schedule=fastgd.InverseScaling()),
    }
    counts = {}
    for name, options in cases.items():
        trainer = Trainer(data.X, data.y, epochs=100, **options)
        trainer.steps(0, 1)  # make sure everything is loaded
        per_call = []
        for n_steps in (1, trainer.batches_per_epoch):
            before = rtsys.get_allocation_stats().alloc
            trainer.steps(0, n_steps)
            per_call.append(rtsys.get_allocation_stats().alloc - before)
        epochs_before = rtsys.get_allocation_stats().alloc
        trainer.run_epoch()
        one_epoch = rtsys.get_allocation_stats().alloc - epochs_before
        epochs_before = rtsys.get_allocation_stats().alloc
        trainer.run_epoch()
        trainer.run_epoch()
        counts[name] = per_call + [one_epoch, (rtsys.get_allocation_stats().alloc - epochs_before) / 2]
    print(json.dumps(counts))
    """
)


def test_training_steps_allocate_nothing_per_step():
    env = dict(os.environ, NUMBA_NRT_STATS="1")
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, check=True)
    counts = json.loads(out.stdout.strip().splitlines()[-1])
    for name, (one_step, many_steps, one_epoch, per_epoch) in counts.items():
        assert one_step == many_steps, (name, one_step, many_steps)
        # an epoch is the same call plus, when shuffling, one call that draws the permutation
        assert one_epoch == per_epoch, (name, one_epoch, per_epoch)
        assert one_epoch - one_step == (0 if name in ("batch-sgd", "minibatch-adam") else 1), name
