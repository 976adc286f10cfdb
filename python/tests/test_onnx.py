# SPDX-License-Identifier: MIT
"""ONNX export checked by the onnx package itself (Debian's python3-onnx):
onnx.checker.check_model accepts the file, and an evaluation of its graph node by node
with numpy, from the file's own initializers, gives what Model.predict gives (with a
scaler: in original units) to float rounding, for every activation and several shapes.
Skips, saying why, when onnx (or numpy) cannot be imported. No onnxruntime: the graph is
evaluated here, op by op, by the ONNX definitions of the ops."""

import math
import os
import sys
import unittest

from _support import TempDir, np, regnn

try:
    import onnx
    from onnx import numpy_helper
except ImportError as e:  # also when numpy is blocked: onnx imports it
    onnx = None
    ONNX_MISSING = "the onnx package is not importable (%s): install python3-onnx" % e
else:
    ONNX_MISSING = None

needs_onnx = unittest.skipIf(
    np is None or onnx is None,
    "numpy is not importable, and the ONNX checks need it" if np is None else ONNX_MISSING)

RTOL = 1e-5
# Shapes (inputs, hidden layers, outputs); each hidden layer is (units, activation).
CASES = [
    (1, [], 1),
    (3, [(8, "relu")], 1),
    (5, [(6, "sigmoid")], 2),
    (4, [(7, "tanh")], 3),
    (10, [(16, "relu"), (9, "tanh"), (5, "sigmoid"), (4, "linear")], 1),
    (6, [(32, "tanh"), (32, "relu")], 4),
    (5, [(7, "elu"), (6, "selu"), (8, "gelu")], 2),
    (4, [(9, "swish"), (5, "leaky_relu"), (6, "softplus")], 3),
    (3, [(8, "gelu"), (8, "swish"), (8, "gelu")], 1),
]
# The nodes of each activation (opset 13 has no Gelu: the Erf form).
ACT_OPS = {"relu": ["Relu"], "sigmoid": ["Sigmoid"], "tanh": ["Tanh"], "linear": [],
           "elu": ["Elu"], "selu": ["Selu"], "leaky_relu": ["LeakyRelu"],
           "softplus": ["Softplus"], "swish": ["Sigmoid", "Mul"],
           "gelu": ["Div", "Erf", "Add", "Mul", "Mul"]}
# Keras' constants, as the float attributes the nodes must carry.
ACT_ATTRS = {"Elu": {"alpha": 1.0}, "Selu": {"alpha": 1.6732632423543772, "gamma": 1.0507009873554805},
             "LeakyRelu": {"alpha": 0.2}}


def evaluate(model_proto, x):
    """The graph's output for x, computed node by node in float32 (ONNX op semantics)."""
    g = model_proto.graph
    env = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    env[g.input[0].name] = np.asarray(x, dtype=np.float32)
    one = np.float32(1)
    for node in g.node:
        a = [env[name] for name in node.input]
        op = node.op_type
        if op == "MatMul":
            r = np.matmul(a[0], a[1])
        elif op == "Add":
            r = a[0] + a[1]
        elif op == "Sub":
            r = a[0] - a[1]
        elif op == "Mul":
            r = a[0] * a[1]
        elif op == "Div":
            r = a[0] / a[1]
        elif op == "Relu":
            r = np.maximum(a[0], np.float32(0))
        elif op == "Sigmoid":
            r = one / (one + np.exp(-a[0]))
        elif op == "Tanh":
            r = np.tanh(a[0])
        elif op == "Erf":
            r = np.vectorize(math.erf, otypes=[np.float64])(a[0]).astype(np.float32)
        elif op == "Softplus":
            r = np.log1p(np.exp(-np.abs(a[0]))) + np.maximum(a[0], np.float32(0))
        elif op in ("Elu", "Selu", "LeakyRelu"):
            at = {x.name: x.f for x in node.attribute}
            self_check = {k: np.float32(v) for k, v in ACT_ATTRS[op].items()}
            assert {k: np.float32(v) for k, v in at.items()} == self_check, (op, at)
            x0 = a[0]
            if op == "LeakyRelu":
                r = np.where(x0 > 0, x0, np.float32(at["alpha"]) * x0)
            else:
                neg = np.float32(at["alpha"]) * np.expm1(x0)
                r = np.where(x0 > 0, x0, neg) * np.float32(at.get("gamma", 1.0))
        else:
            raise AssertionError("unexpected op %s" % op)
        assert r.dtype == np.float32, (op, r.dtype)
        env[node.output[0]] = r
    return env[g.output[0].name]


def build(n_in, hidden, n_out, seed, scaler=False, train=False):
    """An initialized (optionally trained) model, with a scaler fitted on raw data if asked.
    Returns (model, raw inputs to test on)."""
    rng = np.random.default_rng(seed)
    layers = [regnn.Dense(u, a, dropout=0.2 if train else 0.0) for u, a in hidden]
    m = regnn.Model(n_in, layers + [regnn.Dense(n_out)]).init(seed=seed)
    # Non-zero biases, so that a lost or misplaced bias shows.
    p = m.get_params()
    off = 0
    for layer in m.layers:
        off += layer.inputs * layer.units
        p[off:off + layer.units] = rng.uniform(-0.5, 0.5, layer.units)
        off += layer.units
    m.set_params(p)
    loc = rng.uniform(-20, 20, n_in) if scaler else 0.0
    spread = rng.uniform(0.5, 10, n_in) if scaler else 1.0
    x = (rng.standard_normal((200, n_in)) * spread + loc).astype(np.float32)
    if scaler or train:
        z = (x[:, :1] - x[:, :1].mean()) / x[:, :1].std()
        y = (np.tanh(z) * 30 + 100 + rng.standard_normal((200, n_out))).astype(np.float32)
        with regnn.Dataset(x, y) as raw:
            if scaler:
                scaled, sc = raw.standardize("zscore", "zscore")
                if train:
                    m.fit(scaled, regnn.Adam(learning_rate=0.01), epochs=5, batch_size=32)
                scaled.close()
                m.attach_scaler(sc)
                sc.close()
            else:
                m.fit(raw, regnn.Adam(learning_rate=0.01), epochs=5, batch_size=32)
    return m, x


@needs_onnx
class OnnxExportTest(unittest.TestCase):
    worst = 0.0  # largest relative difference |graph - predict| / |predict| seen
    worst_scaled = 0.0  # largest |graph - predict| / max |predict| of its case

    @classmethod
    def tearDownClass(cls):
        sys.stdout.write("\nonnx: graph vs Model.predict: largest relative difference %.3g "
                         "(%.3g of the largest output)\n" % (cls.worst, cls.worst_scaled))

    def check_case(self, n_in, hidden, n_out, seed, scaler, train=False):
        what = "%d-%s-%d%s%s" % (n_in, "-".join("%d%s" % h for h in hidden), n_out,
                                 " scaler" if scaler else "", " trained" if train else "")
        m, x = build(n_in, hidden, n_out, seed, scaler, train)
        with m, TempDir() as tmp:
            path = os.path.join(tmp, "model.onnx")
            m.export_onnx(path)
            with open(path, "rb") as f:
                data = f.read()
            self.assertEqual(data, m.to_onnx(), what)

            proto = onnx.load(path)
            onnx.checker.check_model(proto, full_check=True)
            self.assertEqual(proto.ir_version, 7)
            self.assertEqual([(o.domain, o.version) for o in proto.opset_import], [("", 13)])

            # Structure: the scaler's nodes iff a scaler is attached, no Dropout.
            ops = [n.op_type for n in proto.graph.node]
            want = ["Sub", "Div"] if scaler else []
            for _, act in hidden + [(n_out, "linear")]:
                want += ["MatMul", "Add"] + ACT_OPS[act]
            want += ["Mul", "Add"] if scaler else []
            self.assertEqual(ops, want, what)

            # Inputs and outputs: float [N, cols]; shape inference agrees.
            inferred = onnx.shape_inference.infer_shapes(proto, strict_mode=True)
            for vi, cols in ((inferred.graph.input[0], n_in), (inferred.graph.output[0], n_out)):
                t = vi.type.tensor_type
                self.assertEqual(t.elem_type, onnx.TensorProto.FLOAT)
                self.assertEqual([(d.dim_param, d.dim_value) for d in t.shape.dim],
                                 [("N", 0), ("", cols)], what)
            self.assertEqual([i.name for i in proto.graph.input], ["input"])
            self.assertEqual([o.name for o in proto.graph.output], ["output"])

            # The kernels and biases are the model's parameters, bit for bit.
            inits = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
            flat = np.concatenate([np.concatenate([inits["layer%d/kernel" % i].ravel(),
                                                   inits["layer%d/bias" % i]])
                                   for i in range(len(m.layers))])
            np.testing.assert_array_equal(flat.view(np.uint32),
                                          np.asarray(m.get_params(), np.float32).view(np.uint32))

            # Same predictions, in original units with a scaler.
            got = evaluate(proto, x)
            want_y = m.predict(x, raw=scaler)
            self.assertEqual(got.shape, want_y.shape)
            top = float(np.max(np.abs(want_y)))
            np.testing.assert_allclose(got, want_y, rtol=RTOL, atol=RTOL * 0.1 * top,
                                       err_msg=what)
            diff = np.abs(got.astype(np.float64) - want_y)
            rel = diff / np.maximum(np.abs(want_y.astype(np.float64)), 1e-30)
            cls = type(self)
            cls.worst = max(cls.worst, float(rel.max()))
            cls.worst_scaled = max(cls.worst_scaled, float(diff.max()) / top)

    def test_layers_and_shapes(self):
        for i, (n_in, hidden, n_out) in enumerate(CASES):
            self.check_case(n_in, hidden, n_out, 100 + i, scaler=False)

    def test_layers_and_shapes_with_scaler(self):
        for i, (n_in, hidden, n_out) in enumerate(CASES):
            self.check_case(n_in, hidden, n_out, 200 + i, scaler=True)

    def test_trained_with_dropout(self):
        # Dropout during training, none in the graph; the study's shape of network.
        self.check_case(10, [(64, "relu"), (64, "relu")], 1, 300, scaler=True, train=True)
        self.check_case(3, [(16, "tanh"), (8, "sigmoid")], 2, 301, scaler=False, train=True)


class OnnxErrorsTest(unittest.TestCase):
    """Errors need no onnx package."""

    def test_not_initialized(self):
        with regnn.Model(3, [regnn.Dense(2)]) as m, TempDir() as tmp:
            with self.assertRaises(regnn.StateError):
                m.to_onnx()
            with self.assertRaises(regnn.StateError):
                m.export_onnx(os.path.join(tmp, "m.onnx"))
            self.assertEqual(os.listdir(tmp), [])

    def test_bad_paths(self):
        with regnn.Model(3, [regnn.Dense(2)]) as m, TempDir() as tmp:
            m.init(seed=1)
            missing = os.path.join(tmp, "no", "such", "m.onnx")
            with self.assertRaises(regnn.FileError) as cm:
                m.export_onnx(missing)
            self.assertIn(missing, str(cm.exception))
            with self.assertRaises(regnn.FileError):
                m.export_onnx(tmp)
            with self.assertRaises(regnn.InvalidArgumentError):
                m.export_onnx("")
            with self.assertRaises(TypeError):
                m.export_onnx(3)


if __name__ == "__main__":
    unittest.main()
