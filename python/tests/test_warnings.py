# SPDX-License-Identifier: MIT
"""Warnings about a split or a lambda grid (regnn.split_warnings,
RegularizationPath.warnings): the library's rules through the binding."""

import math
import unittest

from _support import regnn


def fair(rows, seed=3):
    """Targets in a random order from a small LCG, one feature (the row number)."""
    s, y = seed, []
    for _ in range(rows):
        s = (1103515245 * s + 12345) % 2 ** 31
        y.append(s / 2 ** 31 * 2 - 1)
    return [[float(i)] for i in range(rows)], y


class SplitWarnings(unittest.TestCase):
    def test_fair_split_has_none(self):
        x, y = fair(200)
        self.assertEqual(regnn.split_warnings((x, y), validation_split=0.15), [])
        self.assertEqual(regnn.split_warnings((x, y), folds=5), [])

    def test_few_validation_rows_at_30(self):
        x, y = fair(90)
        self.assertEqual(regnn.split_warnings((x[:60], y[:60]),
                                              validation_data=(x[60:90], y[60:90])), [])
        w = regnn.split_warnings((x[:60], y[:60]), validation_data=(x[60:89], y[60:89]))
        self.assertEqual([v.code for v in w], ["few_validation_rows"])
        self.assertEqual(w[0].values["rows"], 29)
        self.assertEqual(w[0].values["threshold"], 30)
        self.assertTrue(math.isnan(w[0].values["target"]))
        self.assertIn("only 29 validation rows (fewer than 30)", w[0].message)

    def test_sorted_rows_and_shuffled(self):
        x = [[float(i)] for i in range(200)]
        y = [float(i) for i in range(200)]
        w = regnn.split_warnings((x, y), validation_split=0.15)
        self.assertEqual([v.code for v in w], ["row_order"])
        self.assertGreater(w[0].values["value"], 4)
        self.assertAlmostEqual(w[0].values["correlation"], 1.0, places=6)
        self.assertEqual(regnn.split_warnings((x, y), validation_split=0.15, shuffled=True), [])

    def test_constant_test_targets(self):
        x, y = fair(100)
        w = regnn.split_warnings((x, y), test_data=(x[:40], [2.0] * 40))
        self.assertEqual([v.code for v in w], ["constant_test"])
        self.assertEqual(w[0].values["value"], 0.0)
        self.assertEqual(w[0].values["target"], 0)

    def test_bad_arguments(self):
        x, y = fair(100)
        with self.assertRaises(regnn.InvalidArgumentError):
            regnn.split_warnings((x, y), validation_split=0.2, folds=3)
        with self.assertRaises(regnn.InvalidArgumentError):
            regnn.split_warnings((x, y), validation_split=0.999)


class GridWarnings(unittest.TestCase):
    def sweep(self, lambdas):
        _, noise = fair(120, seed=5)
        x = [[(i % 40 - 20) / 12.0] for i in range(120)]  # about z-scored, no row trend
        y = [row[0] + 0.1 * v for row, v in zip(x, noise)]
        model = regnn.Model(1, [regnn.Dense(8, "relu"), regnn.Dense(1)])
        return regnn.regularization_path(model, (x, y), lambdas, validation_split=0.25,
                                         optimizer=regnn.Adam(learning_rate=1e-2), epochs=30,
                                         batch_size=16, threads=1)

    def test_grid_too_large_warns(self):
        p = self.sweep([100.0, 1000.0])
        self.assertEqual([w.code for w in p.warnings], ["constant_grid"])
        self.assertEqual(p.warnings[0].values["lambda"], 100.0)
        self.assertIn("try lambdas below 100", p.warnings[0].message)

    def test_unregularized_grid_has_none(self):
        self.assertEqual(self.sweep([0.0]).warnings, [])


if __name__ == "__main__":
    unittest.main()
