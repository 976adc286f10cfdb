# SPDX-License-Identifier: MIT
"""compile(metrics=..., weighted_metrics=...) in Keras 3's names: the library's mse and mae
are weighted by the sample weights, so they are what Keras calls weighted_metrics."""

import contextlib
import io
import unittest

from _support import flat, make_data, regnn


def fit_shown(**compile_args):
    x, y = make_data()
    w = [1.0 + (i % 4) for i in range(len(y))]
    buf = io.StringIO()
    with regnn.Model(4, [regnn.Dense(4, "relu"), regnn.Dense(1)]) as m, \
            contextlib.redirect_stdout(buf):
        m.init(seed=2)
        m.compile("adam", **compile_args)
        h = m.fit(x, y, epochs=1, verbose=2, sample_weight=w)
        ev = m.evaluate((x, y), sample_weight=w)
    return buf.getvalue().strip(), h, ev


class TestMetricNames(unittest.TestCase):
    def test_weighted_metrics_show_the_weighted_values(self):
        line, h, ev = fit_shown(weighted_metrics=["mean_absolute_error"])
        self.assertTrue(line.endswith("loss: %.4f - mae: %.4f" % (h.loss[0], h.mae[0])), line)
        # The History's mae is the weighted mean, the one evaluate reports for the weights.
        x, y = make_data()
        w = [1.0 + (i % 4) for i in range(len(y))]
        with regnn.Model(4, [regnn.Dense(1)]) as m:
            m.init(seed=1)
            p = flat(m.predict(x))
            weighted = sum(wi * abs(pi - yi) for wi, pi, yi in zip(w, p, y)) / sum(w)
            plain = sum(abs(pi - yi) for pi, yi in zip(p, y)) / len(y)
            mae = m.evaluate((x, y), sample_weight=w).mae
        self.assertAlmostEqual(mae, weighted, places=5)
        self.assertNotAlmostEqual(mae, plain, places=3)

    def test_both_lists_name_the_same_values_once(self):
        line, h, _ = fit_shown(metrics=["mse"], weighted_metrics=["mae", "mse"])
        self.assertTrue(line.endswith("loss: %.4f - mse: %.4f - mae: %.4f"
                                      % (h.loss[0], h.mse[0], h.mae[0])), line)

    def test_unknown_weighted_metric_is_refused(self):
        with regnn.Model(4, [regnn.Dense(1)]) as m:
            with self.assertRaises(regnn.UnsupportedError):
                m.compile("adam", weighted_metrics=["r2"])


if __name__ == "__main__":
    unittest.main()
