"""A tiny training run for the kill-and-resume test (run as a script in a subprocess).

    python reliability_train_run.py OUT_JSON CHECKPOINT_NAME [--resume PATH] [--sleep SECONDS]

Trains a FullyConnectedNet with batch norm and (unseeded) dropout on fixed synthetic data with
Adam and lr decay, writing ``CHECKPOINT_NAME_epoch_<n>.npz`` every epoch, then dumps the three
histories, the best validation accuracy and the final parameters as JSON (floats by repr, so
the comparison is exact). ``--sleep`` slows every training step so the parent can kill it.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from xnn.models import FullyConnectedNet
from xnn.solver import Solver

SEED = 231


class SlowNet(FullyConnectedNet):
    """FullyConnectedNet whose training steps sleep ``delay`` seconds (to be killed mid-run)."""

    delay = 0.0

    def loss(self, X, y=None):
        if y is not None and self.delay:
            time.sleep(self.delay)
        return super().loss(X, y)


def make_data() -> dict[str, np.ndarray]:
    """Fixed synthetic data (its own RandomState: independent of the global RNG)."""
    r = np.random.RandomState(0)
    centers = 2.0 * r.randn(4, 12)
    y_train, y_val = r.randint(4, size=80), r.randint(4, size=30)
    return {"X_train": centers[y_train] + r.randn(80, 12), "y_train": y_train,
            "X_val": centers[y_val] + r.randn(30, 12), "y_val": y_val}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("checkpoint_name")
    parser.add_argument("--resume")
    parser.add_argument("--sleep", type=float, default=0.0)
    args = parser.parse_args()
    np.random.seed(SEED)
    SlowNet.delay = args.sleep
    model = SlowNet([16, 16], input_dim=12, num_classes=4, dropout_keep_ratio=0.8, normalization="batchnorm",
                    weight_scale=0.1, dtype=np.float64)
    solver = Solver(model, make_data(), update_rule="adam", optim_config={"learning_rate": 5e-3}, lr_decay=0.9,
                    batch_size=8, num_epochs=6, num_train_samples=40, verbose=False,
                    checkpoint_name=args.checkpoint_name, on_nonfinite="stop")
    if args.resume:
        solver.resume(args.resume)
    solver.train()
    result = {k: getattr(solver, k) for k in ("loss_history", "train_acc_history", "val_acc_history")}
    result["best_val_acc"] = solver.best_val_acc
    result["params"] = {k: v.tolist() for k, v in model.params.items()}
    result["running_mean"] = [bn["running_mean"].tolist() for bn in model.bn_params]
    with open(args.out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
