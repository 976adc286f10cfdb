# SPDX-License-Identifier: MIT
"""Pickling and copying of Model, Optimizer, Scaler and Dataset through the library's own
encodings (regnn._pickle): the same bits back, independent handles, and damaged bytes
raise the library's error."""

import copy
import os
import pickle
import re
import unittest

from _support import REPO, bits, flat, make_data, regnn


def trained():
    x, y = make_data(64, 4)
    ds = regnn.Dataset(x, y, sample_weight=[1.0 + (i % 3) / 4.0 for i in range(64)])
    scaled, sc = ds.standardize()
    m = regnn.Model(4, [regnn.Dense(8, "relu", l2=1e-3), regnn.Dense(1)]).init(seed=3)
    m.set_loss("huber", 0.5)
    opt = regnn.Adam(learning_rate=0.01, weight_decay=1e-4)
    m.fit(scaled, opt, epochs=3, batch_size=16)
    m.attach_scaler(sc)
    return x, ds, sc, m, opt


def damage(blob, payload):
    """blob (a pickle) with one bit of the library's payload flipped, inside the payload."""
    at = blob.find(payload)
    assert at >= 0, "the payload is not in the pickle"
    b = bytearray(blob)
    b[at + len(payload) // 2] ^= 0x10
    return bytes(b)


class TestPickle(unittest.TestCase):
    def test_model_predicts_the_same_bits(self):
        x, ds, sc, m, opt = trained()
        for back in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m), copy.copy(m)):
            self.assertEqual([bits(v) for v in flat(back.predict(x, raw=True))],
                             [bits(v) for v in flat(m.predict(x, raw=True))])
            self.assertEqual(back.loss, "huber")
            self.assertEqual(back.huber_delta, 0.5)
            self.assertEqual(back.to_bytes(), m.to_bytes())
            self.assertNotEqual(back._h, m._h)  # its own handle: closing one keeps the other
        back = pickle.loads(pickle.dumps(m))
        back.close()
        self.assertEqual(len(flat(m.predict(x))), 64)

    def test_model_with_its_optimizer_resumes_the_same(self):
        x, ds, sc, m, opt = trained()
        y = [r[0] for r in x]
        m.compile(opt)
        m.threads = 2
        back = pickle.loads(pickle.dumps(m))
        self.assertEqual(back.threads, 2)
        self.assertEqual(back.optimizer.steps, opt.steps)
        m.fit(x, y, epochs=2, batch_size=16, shuffle=False)
        back.fit(x, y, epochs=2, batch_size=16, shuffle=False)
        self.assertEqual(back.to_bytes(), m.to_bytes())

    def test_model_without_parameters_keeps_its_topology(self):
        m = regnn.Model(3, [regnn.Dense(5, "tanh", l1=0.25, dropout=0.5), regnn.Dense(2)])
        m.set_loss("log_cosh")
        back = pickle.loads(pickle.dumps(m))
        self.assertEqual([(l.units, l.activation_name, l.l1, l.dropout) for l in back.layers],
                         [(5, "tanh", 0.25, 0.5), (2, "linear", 0.0, 0.0)])
        self.assertEqual(back.loss, "log_cosh")
        back.init(seed=1)
        m.init(seed=1)
        self.assertEqual(back.to_bytes(), m.to_bytes())

    def test_optimizer_keeps_settings_steps_and_state(self):
        x, ds, sc, m, opt = trained()
        opt.schedule = regnn.ExponentialDecay(0.01, 10, 0.5)
        back = pickle.loads(pickle.dumps(opt))
        self.assertIsInstance(back, regnn.Adam)
        self.assertEqual((back.steps, back.weight_decay, back.state_size),
                         (opt.steps, opt.weight_decay, opt.state_size))
        self.assertEqual(repr(back.schedule), repr(opt.schedule))
        for which in ("m", "v"):
            self.assertEqual([bits(v) for v in flat(back.get_state(which))],
                             [bits(v) for v in flat(opt.get_state(which))])
        fresh = copy.deepcopy(regnn.SGD(learning_rate=0.5, momentum=0.75, nesterov=True))
        self.assertEqual((fresh.learning_rate, fresh.momentum, fresh.nesterov, fresh.state_size),
                         (0.5, 0.75, True, 0))

    def test_max_dim_is_the_library_s(self):
        # The carrier's layout needs the library's largest dimension, which no public call
        # gives: the copy must equal RG_MAX_DIM wherever src/ defines it.
        import glob
        from regnn import _pickle
        found = []
        for path in glob.glob(os.path.join(REPO, "src", "**", "*.[ch]"), recursive=True):
            with open(path, encoding="utf-8") as f:
                found += re.findall(r"#define RG_MAX_DIM \(\(size_t\)1 << (\d+)\)", f.read())
        self.assertEqual(found, [str(_pickle.MAX_DIM.bit_length() - 1)])
        self.assertEqual(_pickle.MAX_DIM, 1 << int(found[0]))
        with self.assertRaises(regnn.InvalidArgumentError):
            regnn.Model(_pickle.MAX_DIM + 1)
        self.assertEqual(regnn.Model(_pickle.MAX_DIM).n_inputs, _pickle.MAX_DIM)

    def test_carrier_holds_any_state_size(self):
        from regnn import _pickle
        for n in (0, 2, 3, 1000, _pickle.MAX_DIM + 1, _pickle.MAX_DIM + 2):
            with _pickle._carrier(n) as c:
                self.assertEqual(c.param_count, max(n, 2))
        with self.assertRaises(regnn.UnsupportedError):
            _pickle._carrier(_pickle.MAX_CARRIED + 1)

    def test_scaler_keeps_its_statistics(self):
        x, ds, sc, m, opt = trained()
        back = pickle.loads(pickle.dumps(sc))
        for name in ("feature_mean", "feature_scale", "target_mean", "target_scale"):
            self.assertEqual(list(getattr(back, name)), list(getattr(sc, name)))

    def test_dataset_keeps_names_values_and_weights(self):
        x, y = make_data(16, 4)
        ds = regnn.Dataset.parse_csv(
            'a,"b, with ""comma""",t\n' + "".join(
                "%r,%r,%r\n" % (r[0] / 3.0, r[1] * 1e-30, r[2] * 7e20) for r in x), "t")
        ds.sample_weight = [i / 7.0 for i in range(16)]
        for back in (pickle.loads(pickle.dumps(ds)), copy.deepcopy(ds)):
            self.assertEqual(back.feature_names, ('a', 'b, with "comma"'))
            self.assertEqual(back.target_names, ("t",))
            self.assertEqual([bits(v) for v in flat(back.features())],
                             [bits(v) for v in flat(ds.features())])
            self.assertEqual([bits(v) for v in flat(back.targets())],
                             [bits(v) for v in flat(ds.targets())])
            self.assertEqual([bits(v) for v in flat(back.sample_weight)],
                             [bits(v) for v in flat(ds.sample_weight)])

    def test_damaged_bytes_raise_the_library_error(self):
        x, ds, sc, m, opt = trained()
        with self.assertRaises(regnn.FormatError):
            pickle.loads(damage(pickle.dumps(m), m.to_bytes()))
        m.compile(opt)
        payload = regnn.checkpoint_to_bytes(m, opt)
        with self.assertRaises(regnn.FormatError):
            pickle.loads(damage(pickle.dumps(m), payload))
        blob = pickle.dumps(sc)
        state = sc.__reduce__()[1][0]
        with self.assertRaises(regnn.FormatError):
            pickle.loads(damage(blob, state["model"]))
        ds2 = regnn.Dataset.parse_csv("a,b\n1,2\n3,4\n", "b")
        blob = pickle.dumps(ds2)
        with self.assertRaises(regnn.FormatError):
            pickle.loads(blob.replace(b"3.0,4.0", b"3.0;4.0"))  # same length

    def test_closed_objects_refuse(self):
        x, ds, sc, m, opt = trained()
        for obj in (ds, sc, m, opt):
            obj.close()
            with self.assertRaises(regnn.ClosedError):
                pickle.dumps(obj)


if __name__ == "__main__":
    unittest.main()
