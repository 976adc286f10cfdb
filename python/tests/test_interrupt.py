# SPDX-License-Identifier: MIT
"""Ctrl-C: a real SIGINT during fit / regularization_path always ends in KeyboardInterrupt.

The trials run in a fresh interpreter whose library allocations are counted
(regnn_set_allocator), so that a stray signal cannot hit the test runner and a
leaked block is seen; SIGINTs come from a timer thread at random moments.
"""

import os
import signal
import unittest

from _support import NO_NUMPY, run_python

TRIALS = r'''
import ctypes, gc, os, random, signal, sys, threading, time
sys.path.insert(0, %(tests)r)
import _support
from _support import make_data, regnn
from regnn import _capi

libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.restype, libc.free.argtypes = None, [ctypes.c_void_p]
live = set()

@_capi.MALLOC_FN
def my_malloc(user, size):
    p = libc.malloc(size)
    live.add(p)
    return p

@_capi.FREE_FN
def my_free(user, p):
    live.discard(p)
    libc.free(p)

assert _capi.lib.regnn_set_allocator(my_malloc, my_free, None) == 0

x, y = make_data(64)
ds = regnn.Dataset(x, y, copy=True)
val = regnn.Dataset(x[:16], y[:16], copy=True)
model = regnn.Model(4, [regnn.Dense(8, "tanh"), regnn.Dense(1)]).init(seed=1)
opt = regnn.Adam()
model.fit(ds, opt, epochs=1, batch_size=16)   # binds the optimizer's state
EPOCHS = 100000                               # far more than a trial lasts
SAFETY = 10.0                                 # seconds: a missed signal ends the call instead
rng = random.Random(%(seed)d)
threads0 = threading.active_count()
baseline = len(live)
counts = {}

def fit_callback():
    t0 = time.monotonic()
    model.fit(ds, opt, epochs=EPOCHS, batch_size=16, validation_data=val,
              callback=lambda e, h: time.monotonic() - t0 > SAFETY)

def fit_plain():
    steps = opt.steps
    try:
        model.fit((x, y), opt, epochs=EPOCHS, batch_size=16, validation_split=0.25)
    finally:
        # stopped early: a full fit takes EPOCHS * 3 steps
        assert opt.steps - steps < 3 * EPOCHS, opt.steps - steps

def path_progress():
    t0 = time.monotonic()
    regnn.regularization_path(model, (x, y), [1e-3] * 4000, validation_data=val, epochs=2,
                              batch_size=16, threads=2,
                              progress=lambda *a: time.monotonic() - t0 > SAFETY)

def path_plain():
    regnn.regularization_path(model, ds, [1e-3] * 4000, validation_split=0.25, epochs=2,
                              batch_size=16, threads=2, test_data=(x[:8], y[:8]))

for name, call, n in (("fit_callback", fit_callback, 20), ("fit_plain", fit_plain, 10),
                      ("path_progress", path_progress, 15), ("path_plain", path_plain, 10)):
    for trial in range(n):
        delay = rng.uniform(0.0, 0.02)
        timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT))
        outcome = "returned"
        try:
            timer.start()
            call()
        except KeyboardInterrupt:
            outcome = "KeyboardInterrupt"
        except BaseException as e:
            outcome = "%%s: %%s" %% (type(e).__name__, e)
        finally:
            timer.join()
        assert outcome == "KeyboardInterrupt", (name, trial, delay, outcome)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, (name, trial)
        assert threading.active_count() == threads0, (name, trial, threading.enumerate())
        assert len(live) == baseline, (name, trial, len(live) - baseline)
        for obj in (model, opt, ds, val):
            assert obj._busy == 0 and not obj.closed, (name, trial, obj)
        counts[name] = counts.get(name, 0) + 1
    # still usable: a short fit and a prediction
    assert model.fit(ds, opt, epochs=1, batch_size=16).epochs == 1
    assert len(model.predict(x[:2])) == 2
for obj in (model, opt, ds, val):
    obj.close()
gc.collect()
assert not live, len(live)
print("interrupt ok", sum(counts.values()), counts)
'''


@unittest.skipUnless(hasattr(os, "kill") and hasattr(signal, "SIGINT"), "needs os.kill and SIGINT")
class TestCtrlC(unittest.TestCase):
    def test_sigint_during_fit_and_path_raises_keyboardinterrupt(self):
        # REGNN_TEST_INTERRUPT_SEED=<n> replays the signal timings of a failed run.
        seed = os.environ.get("REGNN_TEST_INTERRUPT_SEED")
        seed = int(seed) if seed else int.from_bytes(os.urandom(4), "little")
        code = TRIALS % {"tests": os.path.dirname(os.path.abspath(__file__)), "seed": seed}
        r = run_python(code, env={"REGNN_TEST_NO_NUMPY": "1" if NO_NUMPY else "0"}, timeout=600)
        replay = "\n(replay: REGNN_TEST_INTERRUPT_SEED=%d)\n" % seed
        self.assertEqual(r.returncode, 0, replay + r.stdout + r.stderr)
        self.assertIn("interrupt ok 55", r.stdout, replay)
        # A KeyboardInterrupt swallowed inside a ctypes callback or a finalizer is
        # reported on stderr.
        self.assertNotIn("Exception ignored", r.stderr, replay + r.stderr)


class TestDeferSigintUnit(unittest.TestCase):
    """The guard itself: inactive off the main thread and under a custom handler."""

    def test_custom_handler_is_left_alone(self):
        from regnn import _sigint
        seen = []
        prev = signal.signal(signal.SIGINT, lambda s, f: seen.append(s))
        try:
            with _sigint.DeferSigint() as g:
                self.assertFalse(g.active)
                os.kill(os.getpid(), signal.SIGINT)
                self.assertFalse(g.interrupted())
            for _ in range(100):
                if seen:
                    break
            self.assertEqual(seen, [signal.SIGINT])
        finally:
            signal.signal(signal.SIGINT, prev)

    def test_other_thread_is_inactive(self):
        import threading
        from regnn import _sigint
        res = []

        def run():
            with _sigint.DeferSigint() as g:
                res.append(g.active)
        t = threading.Thread(target=run)
        t.start()
        t.join()
        self.assertEqual(res, [False])

    def test_deferred_signal_raised_on_exit_and_handler_restored(self):
        from regnn import _sigint
        with self.assertRaises(KeyboardInterrupt):
            with _sigint.DeferSigint() as g:
                self.assertTrue(g.active)
                with _sigint.DeferSigint() as inner:  # nested: shares the handler
                    self.assertTrue(inner.active)
                    os.kill(os.getpid(), signal.SIGINT)
                    self.assertTrue(inner.interrupted())
                    self.assertFalse(g.pending)
        self.assertIs(signal.getsignal(signal.SIGINT), signal.default_int_handler)
        self.assertIsNone(_sigint._current)


class _Unraisable:
    """Collects what Python reports as "Exception ignored" (sys.unraisablehook)."""

    def __enter__(self):
        import sys
        self.seen, self._prev = [], sys.unraisablehook
        sys.unraisablehook = lambda u: self.seen.append(u.exc_type)
        return self

    def __exit__(self, *exc):
        import sys
        sys.unraisablehook = self._prev
        return False


@unittest.skipUnless(hasattr(signal, "raise_signal"), "needs signal.raise_signal")
class TestCtrlCInFinalizer(unittest.TestCase):
    """A Ctrl-C landing in _Handle.__del__: the handle is freed once and the Ctrl-C
    is raised outside the finalizer, never printed as "Exception ignored"."""

    def fake(self, free):
        from regnn import _handles

        class Fake(_handles._Handle):
            # The handle object doubles as raise()'s argument (see test_signal_at_entry).
            _as_parameter_ = int(signal.SIGINT)
            _FREE = free
        obj = Fake()
        obj._adopt(7)
        return obj

    def test_signal_at_entry_is_deferred_and_handle_freed(self):
        # SIGINT is raised by a C call whose argument holds the last reference to the
        # handle object: the call's end drops it, so __del__ starts with the signal
        # pending and the handler runs at its first instruction, while a fit callback
        # runs the user's code (where a Ctrl-C otherwise raises).
        import ctypes
        from regnn import _sigint
        c_raise = ctypes.CDLL(None)["raise"]
        freed = []
        with _Unraisable() as u:
            with self.assertRaises(KeyboardInterrupt):
                with _sigint.DeferSigint() as g:
                    self.assertTrue(g.active)
                    g.in_python = True
                    c_raise(self.fake(freed.append))
                    g.in_python = False
                    self.assertTrue(g.pending)
        self.assertEqual(u.seen, [])
        self.assertEqual(freed, [7])

    def test_interrupt_after_free_goes_to_active_call(self):
        from regnn import _sigint
        freed = []

        def free(h):
            freed.append(h)
            raise KeyboardInterrupt  # as if SIGINT's handler ran when the free returned
        with _Unraisable() as u:
            with self.assertRaises(KeyboardInterrupt):
                with _sigint.DeferSigint() as g:
                    obj = self.fake(staticmethod(free))
                    del obj
                    self.assertTrue(g.pending)
        self.assertEqual(u.seen, [])
        self.assertEqual(freed, [7])

    def test_interrupt_after_free_is_raised_after_the_finalizer(self):
        import time
        freed, where = [], []

        def free(h):
            freed.append(h)
            raise KeyboardInterrupt
        self.assertIs(signal.getsignal(signal.SIGINT), signal.default_int_handler)
        with _Unraisable() as u:
            try:
                obj = self.fake(staticmethod(free))
                del obj
                where.append("after del")
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    time.sleep(0.001)
                where.append("not raised")
            except KeyboardInterrupt:
                where.append("raised")
        self.assertEqual(u.seen, [])
        self.assertEqual(freed, [7])
        self.assertEqual(where, ["after del", "raised"])


if __name__ == "__main__":
    unittest.main()
