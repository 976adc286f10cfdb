# SPDX-License-Identifier: MIT
"""regnn.mpi_fit without MPI: two threads stand in for two processes, with a
communicator whose Allgather meets at a barrier. The exchange sums in rank order,
so the processes agree bit for bit and, with one shard per process (batch 64 on
2), equal the one-process Model.fit."""
import threading
import unittest

import regnn

try:
    import numpy as np
except ImportError:  # pragma: no cover - numpy is needed by mpi_fit
    np = None


class ThreadComm:
    """The part of an mpi4py communicator mpi_fit uses, for `size` threads."""

    def __init__(self, shared, rank):
        self.shared, self.rank = shared, rank

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return self.shared["size"]

    def Allgather(self, send, recv):
        s = self.shared
        s["slots"][self.rank] = np.array(send, copy=True)
        s["barrier"].wait()
        for r in range(s["size"]):
            recv[r] = s["slots"][r]
        s["barrier"].wait()


def data(rows=250):
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (rows, 5)).astype(np.float32)
    y = (np.sin(2 * x[:, 0]) + x[:, 1] * x[:, 2]).astype(np.float32)
    return x, y


def net():
    m = regnn.Model(5, [regnn.Dense(24, "relu", l2=1e-3), regnn.Dense(24, "tanh"),
                        regnn.Dense(1, l2=1e-3)])
    m.init(seed=9)
    return m


@unittest.skipIf(np is None, "numpy is not installed")
class TestMpiFit(unittest.TestCase):
    def run_ranks(self, size, batch):
        x, y = data()
        shared = {"size": size, "slots": [None] * size,
                  "barrier": threading.Barrier(size, timeout=60)}
        models, hists, errors = [net() for _ in range(size)], [None] * size, []

        def rank(r):
            try:
                hists[r] = regnn.mpi_fit(ThreadComm(shared, r), models[r], x, y, epochs=4,
                                         batch_size=batch, validation_split=0.2)
            except BaseException as e:  # reported below
                errors.append(e)
                shared["barrier"].abort()
        threads = [threading.Thread(target=rank, args=(r,)) for r in range(size)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertFalse(errors, errors)
        alone = net()
        h = alone.fit(x, y, epochs=4, batch_size=batch, validation_split=0.2)
        return models, hists, alone, h

    def test_one_shard_per_process_is_model_fit(self):
        models, hists, alone, h = self.run_ranks(2, 64)
        ref = alone.get_params().tobytes()
        for m, hist in zip(models, hists):
            self.assertEqual(m.get_params().tobytes(), ref)
            self.assertEqual(list(hist["loss"]), list(h["loss"]))

    def test_even_shares_agree_and_are_close(self):
        models, hists, alone, h = self.run_ranks(2, 50)
        p0 = models[0].get_params()
        self.assertEqual(models[1].get_params().tobytes(), p0.tobytes())
        ref = alone.get_params()
        rel = float(np.linalg.norm(p0 - ref) / np.linalg.norm(ref))
        self.assertLess(rel, 1e-4)

    def run_each(self, size, setup):
        """mpi_fit on `size` threads, setup(rank) -> (model, x, y, kwargs); the
        exception each rank raised (None for none)."""
        shared = {"size": size, "slots": [None] * size,
                  "barrier": threading.Barrier(size, timeout=60)}
        errors = [None] * size

        def rank(r):
            try:
                m, x, y, kw = setup(r)
                regnn.mpi_fit(ThreadComm(shared, r), m, x, y, epochs=2, batch_size=64, **kw)
            except BaseException as e:  # checked by the caller
                errors[r] = e
        threads = [threading.Thread(target=rank, args=(r,)) for r in range(size)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        return errors

    def test_differing_settings_fail_everywhere(self):
        # One setting differs on the last rank: every rank raises, naming the
        # setting and the ranks (the C library's settings fingerprint).
        x, y = data()

        def other_l2():
            m = regnn.Model(5, [regnn.Dense(24, "relu", l2=1e-2), regnn.Dense(24, "tanh"),
                                regnn.Dense(1, l2=1e-3)])
            m.init(seed=9)
            return m

        def other_activation():
            m = regnn.Model(5, [regnn.Dense(24, "tanh", l2=1e-3), regnn.Dense(24, "tanh"),
                                regnn.Dense(1, l2=1e-3)])
            m.init(seed=9)
            return m

        def other_loss():
            m = net()
            m.set_loss("huber", delta=0.5)
            return m

        def other_seed():
            m = net()
            m.init(seed=10)
            return m

        x2 = x.copy()
        x2[7, 1] += 0.5
        cases = {
            "optimizer.learning_rate": lambda: (net(), x, y, {"optimizer": regnn.Adam(0.01)}),
            "layer.l2": lambda: (other_l2(), x, y, {}),
            "optimizer.schedule": lambda: (net(), x, y, {"optimizer": regnn.Adam(
                regnn.ExponentialDecay(1e-3, 100, 0.5))}),
            "model.loss": lambda: (other_loss(), x, y, {}),
            "layer.activation": lambda: (other_activation(), x, y, {}),
            "data.train_weights": lambda: (net(), x, y, {"sample_weight": np.ones(len(y))}),
            "model.seed": lambda: (other_seed(), x, y, {}),
            "data.train": lambda: (net(), x2, y, {}),
        }
        for size in (2, 3):
            for name, changed in cases.items():
                def setup(r, changed=changed, size=size):
                    return changed() if r == size - 1 else (net(), x, y, {})
                errors = self.run_each(size, setup)
                want = "setting '%s' differs: rank 0 vs rank %d" % (name, size - 1)
                for r, e in enumerate(errors):
                    self.assertIsInstance(e, regnn.InvalidArgumentError, (name, r, e))
                    self.assertIn(want, str(e))

    def test_failing_process_is_named(self):
        # A process that fails in the library before training: the others' errors
        # name its rank and its reason.
        x, y = data()
        val = (x[:20], y[:20])
        bad_val = (x[:20, :4].copy(), y[:20])

        def setup(r):
            return net(), x, y, {"validation_data": bad_val if r == 1 else val}
        errors = self.run_each(2, setup)
        self.assertIsInstance(errors[1], regnn.ShapeError)
        self.assertIsInstance(errors[0], regnn.StateError)
        self.assertIn("rank 1 of the data-parallel fit failed before training", str(errors[0]))
        self.assertIn("validation data has 4 features", str(errors[0]))

    def test_failing_before_the_library_is_named(self):
        # A process whose arguments fail in the binding, before the library's fit:
        # the others raise naming it and its error instead of waiting for it.
        x, y = data()
        for bad in (0, 1):
            def setup(r, bad=bad):
                return net(), x, y, {"validation_split": "half"} if r == bad else {}
            errors = self.run_each(2, setup)
            self.assertIsInstance(errors[bad], TypeError)
            other = errors[1 - bad]
            self.assertIsInstance(other, regnn.StateError, other)
            self.assertIn("rank %d of the data-parallel fit failed before training "
                          "(invalid argument): TypeError: " % bad, str(other))
            self.assertIn(str(errors[bad])[:40], str(other))

    def test_dropout_and_noise_are_model_fit(self):
        # Every process draws the whole batch's masks and noise and uses its rows':
        # the bits of the one-process Model.fit.
        x, y = data()

        def drawing():
            m = regnn.Model(5, [regnn.Dense(24, "relu", dropout=0.2), regnn.GaussianNoise(0.1),
                                regnn.Dense(24, "tanh"), regnn.GaussianDropout(0.2),
                                regnn.Dense(1)])
            m.init(seed=9)
            return m
        shared = {"size": 2, "slots": [None] * 2, "barrier": threading.Barrier(2, timeout=60)}
        models, hists, errors = [drawing() for _ in range(2)], [None] * 2, []

        def rank(r):
            try:
                hists[r] = regnn.mpi_fit(ThreadComm(shared, r), models[r], x, y, epochs=3,
                                         batch_size=64)
            except BaseException as e:  # reported below
                errors.append(e)
                shared["barrier"].abort()
        threads = [threading.Thread(target=rank, args=(r,)) for r in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertFalse(errors, errors)
        alone = drawing()
        h = alone.fit(x, y, epochs=3, batch_size=64)
        for m, hist in zip(models, hists):
            self.assertEqual(m.get_params().tobytes(), alone.get_params().tobytes())
            self.assertEqual(list(hist["loss"]), list(h["loss"]))

    def test_batch_normalization_is_model_fit(self):
        # Each BatchNormalization layer gathers the whole batch's input and output
        # gradient: the bits of the one-process Model.fit, moving statistics included.
        x, y = data()

        def normed():
            m = regnn.Model(5, [regnn.BatchNormalization(0.9), regnn.Dense(24, "relu"),
                                regnn.BatchNormalization(0.8), regnn.Dense(1)])
            m.init(seed=1)
            return m
        shared = {"size": 2, "slots": [None] * 2, "barrier": threading.Barrier(2, timeout=60)}
        models, hists, errors = [normed() for _ in range(2)], [None] * 2, []

        def rank(r):
            try:
                hists[r] = regnn.mpi_fit(ThreadComm(shared, r), models[r], x, y, epochs=3,
                                         batch_size=64)
            except BaseException as e:  # reported below
                errors.append(e)
                shared["barrier"].abort()
        threads = [threading.Thread(target=rank, args=(r,)) for r in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertFalse(errors, errors)
        alone = normed()
        h = alone.fit(x, y, epochs=3, batch_size=64)
        for m, hist in zip(models, hists):
            self.assertEqual(m.get_params().tobytes(), alone.get_params().tobytes())
            self.assertEqual(list(hist["loss"]), list(h["loss"]))
            for i in (0, 2):
                for a, b in ((m.layers[i].moving_mean, alone.layers[i].moving_mean),
                             (m.layers[i].moving_variance, alone.layers[i].moving_variance)):
                    self.assertEqual(np.asarray(a).tobytes(), np.asarray(b).tobytes())
        self.assertNotEqual(list(np.asarray(alone.layers[2].moving_variance)), [1.0] * 24)

if __name__ == "__main__":
    unittest.main()
