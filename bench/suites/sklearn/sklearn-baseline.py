#!/usr/bin/python3
"""sklearn side of `npm run bench -- sklearn` (Debian's python3-sklearn).

make DIR: fits the three bench models on generated data (a 100-tree RandomForest, a 100-stage
GradientBoosting, a StandardScaler + PCA + LogisticRegression Pipeline), saves them with joblib,
and the bench rows as raw float32 (rows.f32, ROWS x FEATURES).
time DIR: sklearn's own predict_proba on the same rows, batch rows/s and single-row latency,
as JSON on stdout.
"""
import json
import os
import sys
import time

import joblib
import numpy as np

ROWS = 10000
FEATURES = 20
MODELS = ["random_forest", "gradient_boosting", "pipeline"]


def make(out):
    from sklearn.datasets import make_classification
    from sklearn.decomposition import PCA
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    os.makedirs(out, exist_ok=True)
    X, y = make_classification(n_samples=5000, n_features=FEATURES, n_informative=10, n_classes=3, random_state=0)
    X = X.astype(np.float32).astype(np.float64)
    models = {
        "random_forest": RandomForestClassifier(n_estimators=100, max_depth=10, random_state=0, n_jobs=1),
        "gradient_boosting": GradientBoostingClassifier(n_estimators=100, max_depth=3, random_state=0),
        "pipeline": Pipeline([("scale", StandardScaler()), ("pca", PCA(n_components=10)),
                              ("clf", LogisticRegression(max_iter=1000))]),
    }
    for name, model in models.items():
        joblib.dump(model.fit(X, y), os.path.join(out, name + ".joblib"))
    rows = np.random.RandomState(1).normal(size=(ROWS, FEATURES)).astype(np.float32)
    rows.tofile(os.path.join(out, "rows.f32"))


def median(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def timing(out):
    rows = np.fromfile(os.path.join(out, "rows.f32"), dtype=np.float32).reshape(-1, FEATURES).astype(np.float64)
    result = {}
    for name in MODELS:
        model = joblib.load(os.path.join(out, name + ".joblib"))
        batch = median(lambda: model.predict_proba(rows), 3)
        one = rows[:1]
        single = median(lambda: model.predict_proba(one), 200)
        result[name] = {"rows_per_s": len(rows) / batch, "single_ms": single * 1000,
                        "labels": model.predict(rows).tolist(),
                        "probabilities": model.predict_proba(rows).astype(np.float32).ravel().tolist()}
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    {"make": make, "time": timing}[sys.argv[1]](sys.argv[2])
