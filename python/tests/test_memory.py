# SPDX-License-Identifier: MIT
"""Memory: 10 000 create/free cycles without growth; every library block freed exactly once;
allocation failures surface as regnn.OutOfMemoryError.
"""

import gc
import os
import resource
import textwrap
import unittest

from _support import NO_NUMPY, make_data, np, regnn, run_python


def rss_bytes():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # pragma: no cover - not Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cycle(i, x, y, xs, ys):
    """One create/use/free cycle of every handle type, by all three release paths."""
    kind = i % 3
    ds = regnn.Dataset(x, y)  # zero-copy when x, y are float32 numpy arrays
    m = regnn.Model(4, [regnn.Dense(8, "relu", l2=1e-3), regnn.Dense(1)])
    o = regnn.Adam() if i % 2 else regnn.SGD(momentum=0.9)
    m.init(seed=i)
    m.predict(xs)
    m.train_batch(o, xs, ys)
    h = m.fit(ds, o, epochs=1, batch_size=8, validation_split=0.25,
              callback=(lambda e, hist: False) if i % 4 == 0 else None)
    assert h.epochs == 1
    tr, te = ds.split_shuffled(0.25, seed=i)
    scaled, sc = tr.standardize()
    c = m.copy()
    if kind == 0:  # explicit close
        for obj in (ds, m, o, tr, te, scaled, sc, c):
            obj.close()
    elif kind == 1:  # context managers
        with ds, m, o, tr, te, scaled, sc, c:
            pass
    # kind 2: dropped references, freed by __del__


class TestNoGrowth(unittest.TestCase):
    def test_10000_cycles(self):
        x, y = make_data(32)
        if np is not None:
            x, y = np.array(x, np.float32), np.array(y, np.float32)
        xs, ys = x[:4], y[:4]
        for i in range(1000):  # warm-up: allocator pools, ctypes caches
            cycle(i, x, y, xs, ys)
        gc.collect()
        before = rss_bytes()
        for i in range(1000, 11000):
            cycle(i, x, y, xs, ys)
        gc.collect()
        grown = rss_bytes() - before
        self.assertLess(grown, 4 << 20, "RSS grew by %d bytes over 10 000 cycles" % grown)


# Runs in a fresh interpreter: the allocator hook must be installed before the
# library's first allocation.
ACCOUNTING = r'''
import ctypes, gc, sys
sys.path.insert(0, %(tests)r)
import _support
from _support import make_data, np, regnn
from regnn import _capi
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.restype, libc.free.argtypes = None, [ctypes.c_void_p]
live, bad = {}, []
state = {"fail": False, "count": 0, "peak": 0}

@_capi.MALLOC_FN
def my_malloc(user, size):
    if state["fail"]:
        return None
    p = libc.malloc(size)
    live[p] = size
    state["count"] += 1
    state["peak"] = max(state["peak"], len(live))
    return p

@_capi.FREE_FN
def my_free(user, p):
    if live.pop(p, None) is None:
        bad.append(p)   # double free or foreign pointer
        return
    libc.free(p)

assert _capi.lib.regnn_set_allocator(my_malloc, my_free, None) == 0
exec(%(cycle)r)
x, y = make_data(32)
if np is not None:
    x, y = np.array(x, np.float32), np.array(y, np.float32)
for i in range(%(n)d):
    cycle(i, x, y, x[:4], y[:4])
# error paths allocate and must free too
for i in range(50):
    try:
        regnn.Dataset.parse_csv("a,y\n1,2\n1,x\n", "y")
    except regnn.FormatError:
        pass
    try:
        with regnn.Dataset(x, y) as ds, regnn.Model(4, [regnn.Dense(2), regnn.Dense(1)]) as m:
            m.init()
            m.fit(ds, regnn.Adam(), epochs=3, callback=lambda e, h: 1 / 0)
    except ZeroDivisionError:
        pass
gc.collect()
assert not bad, "freed blocks the library did not allocate (double free?): %%d" %% len(bad)
assert not live, "%%d library blocks leaked: %%r" %% (len(live), sorted(live.values())[:20])
assert state["count"] > 1000, state
# Zero copy: a float32 dataset of 4000 x 64 (1 MB) must not be copied by the library.
big = np.zeros((4000, 64), np.float32) if np is not None else None
if big is not None:
    before = dict(live)
    ds = regnn.Dataset(big, np.zeros(4000, np.float32))
    extra = sum(v for k, v in live.items() if k not in before)
    assert extra < 4096, "the library allocated %%d bytes for a borrowed dataset" %% extra
    ds2 = regnn.Dataset(big, np.zeros(4000, np.float32), copy=True)
    extra2 = sum(v for k, v in live.items() if k not in before)
    assert extra2 > 4000 * 64 * 4, extra2
    ds.close(); ds2.close()
# Allocation failures: OutOfMemoryError, nothing leaked, everything usable afterwards.
m = regnn.Model(4, [regnn.Dense(3), regnn.Dense(1)]).init()
ds = regnn.Dataset(x, y, copy=True)
o = regnn.Adam()
state["fail"] = True
for call in (lambda: regnn.Model(3), regnn.Adam, m.copy, lambda: regnn.Dataset(x, y, copy=True),
             lambda: m.fit(ds, o, epochs=2), lambda: ds.split_tail(0.5),
             lambda: regnn.Dataset.parse_csv("a,y\n1,2\n", "y")):
    try:
        call()
    except regnn.OutOfMemoryError as e:
        assert e.code == 2 and isinstance(e, MemoryError), e
    else:
        raise AssertionError("no OutOfMemoryError from %%r" %% call)
state["fail"] = False
assert m.fit(ds, o, epochs=2).epochs == 2
m.close(); ds.close(); o.close()
gc.collect()
assert not live and not bad, (len(live), len(bad))
print("accounting ok: %%d allocations, peak %%d live blocks" %% (state["count"], state["peak"]))
'''


class TestAllocatorAccounting(unittest.TestCase):
    def test_every_block_freed_exactly_once(self):
        import inspect
        code = ACCOUNTING % {"tests": os.path.dirname(os.path.abspath(__file__)),
                             "cycle": textwrap.dedent(inspect.getsource(cycle)), "n": 1000}
        env = {"REGNN_TEST_NO_NUMPY": "1" if NO_NUMPY else "0"}
        r = run_python(code, env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("accounting ok", r.stdout)


if __name__ == "__main__":
    unittest.main()
