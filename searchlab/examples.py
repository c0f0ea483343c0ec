"""Real objectives to tune: scikit-learn models cross-validated on its bundled datasets.

Each function takes a configuration (a dict, as a configuration space's candidates give it)
and returns ``{"acc_cv": mean accuracy in %}`` over a fixed 3-fold stratified split, so a
configuration always scores the same. Their spaces are packaged space files:
``searchlab run space=svm_digits verifier=function
verifier.target=searchlab.examples:svm_digits objectives=cv_accuracy``.

Example:
    >>> from searchlab.examples import svm_digits
    >>> round(svm_digits({"kernel": "rbf", "C": 10.0, "gamma": 0.001})["acc_cv"], 1)
    98.1
"""

from __future__ import annotations

import warnings
from functools import cache
from typing import Any

import numpy as np

FOLDS = 3


@cache
def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets

    loader = {"digits": datasets.load_digits, "breast_cancer": datasets.load_breast_cancer}
    x, y = loader[name](return_X_y=True)
    return x.astype(np.float64), y


def cv_accuracy(model: Any, dataset: str) -> float:
    """Mean accuracy (%) of ``model`` over the fixed stratified folds of ``dataset``."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    x, y = _data(dataset)
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=0)
    with warnings.catch_warnings():  # a poor configuration's convergence warning is its score
        warnings.simplefilter("ignore")
        return 100.0 * float(cross_val_score(model, x, y, cv=folds).mean())


def svm_digits(config: dict[str, Any]) -> dict[str, float]:
    """An SVM on digits (standardized pixels): kernel, C, and gamma / degree where used."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    model = SVC(
        kernel=config["kernel"],
        C=config["C"],
        gamma=config.get("gamma", "scale"),
        degree=config.get("degree", 3),
        coef0=config.get("coef0", 0.0),
        max_iter=20_000,
    )
    return {"acc_cv": cv_accuracy(make_pipeline(StandardScaler(), model), "digits")}


def gbm_breast_cancer(config: dict[str, Any]) -> dict[str, float]:
    """Histogram gradient boosting on breast cancer: rate, trees, leaves, regularization."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        learning_rate=config["learning_rate"],
        max_iter=config["max_iter"],
        max_leaf_nodes=config["max_leaf_nodes"],
        min_samples_leaf=config["min_samples_leaf"],
        l2_regularization=config["l2_regularization"],
        max_features=config["max_features"],
        early_stopping=False,
        random_state=0,
    )
    return {"acc_cv": cv_accuracy(model, "breast_cancer")}
