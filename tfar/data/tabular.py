"""Real-valued tabular data: scikit-learn's data sets, read offline, standardized.

Sources (`tfar.data.read`, `tfar.data.load`):
  "sklearn:wine"                178 wines, 13 chemical measurements (3 cultivars: labels).
  "sklearn:breast_cancer"       569 tumours, 30 features of cell nuclei (2 classes: labels).
  "sklearn:diabetes"            442 patients, 10 baseline variables, 9 kept (below).
  "sklearn:california_housing"  20,640 districts, 8 features; its file is downloaded by
                                scikit-learn once (`fetch_california_housing`), so it is
                                there only where that was done (`data_dir`: scikit-learn's
                                data home), else a FileNotFoundError says so.

The first three ship with scikit-learn, so they work offline. Each is the regression or
classification set's features x (not its target: wine's and breast cancer's classes are
the examples' labels, for a class-conditional model), as the density-estimation
benchmarks of MAF (Papamakarios et al. 2017, appendix D) prepare UCI sets:

- columns with fewer than `MIN_DISTINCT` distinct values are dropped (diabetes' sex, two
  values): a density has no finite maximum on a variable that takes a few values;
- the rows are permuted once (numpy's PCG64 seeded with `PERMUTATION_SEED`, the same on
  every machine) and split into the last 10% "test", the 10% before "validation", the
  first 80% "train" (sizes rounded down for test and validation);
- every column is standardized with the mean and standard deviation of the "train" rows
  (ddof 0), in every split alike, so no test statistic leaks into training.

Each example is a float32 vector [D] (`Split.images` holds the rows [N, D];
`Split.levels` is None: real values). Slices apply to a split as to images
("train[:50%]").
"""

import numpy as np

__all__ = ["NAMES", "MIN_DISTINCT", "read", "split_rows"]

PREFIX = "sklearn:"
NAMES = ("wine", "breast_cancer", "diabetes", "california_housing")
"""The sets, each the source "sklearn:<name>"."""
MIN_DISTINCT = 20
"""Columns with fewer distinct values in the train split are dropped."""
PERMUTATION_SEED = 0
SPLITS = ("train", "validation", "test")


def _features(name, data_home):
    """(x [N, D'] float64, labels [N] int64 or None) of scikit-learn's set `name`."""
    from sklearn import datasets
    if name == "california_housing":
        try:
            bunch = datasets.fetch_california_housing(data_home=data_home,
                                                      download_if_missing=False)
        except OSError as error:
            raise FileNotFoundError(
                f"{PREFIX}california_housing: scikit-learn's file is not in its data home "
                f"({datasets.get_data_home(data_home)}); run "
                "sklearn.datasets.fetch_california_housing() once where there is internet, "
                "or pass data_dir=<data home>.") from error
        return bunch.data, None
    loader = {"wine": datasets.load_wine, "breast_cancer": datasets.load_breast_cancer,
              "diabetes": datasets.load_diabetes}[name]
    bunch = loader()
    labels = bunch.target.astype(np.int64) if name != "diabetes" else None
    return bunch.data, labels


def split_rows(num_rows):
    """{split: row indices} of a set of `num_rows` rows (see the module docstring)."""
    order = np.random.Generator(np.random.PCG64(PERMUTATION_SEED)).permutation(num_rows)
    held_out = num_rows // 10
    train_end = num_rows - 2 * held_out
    return {"train": order[:train_end], "validation": order[train_end:train_end + held_out],
            "test": order[train_end + held_out:]}


def read(source, name, data_home=None):
    """(rows [N, D] float32, labels [N] int64 or None, num_classes or None) of split `name`
    ("train", "validation" or "test", unsliced) of `source` ("sklearn:<set>"),
    standardized with the train rows' statistics; `data_home`: scikit-learn's data home
    (None: its default)."""
    set_name = source[len(PREFIX):]
    if set_name not in NAMES:
        raise ValueError(f"Unknown tabular source {source!r}; expected one of "
                         f"{[PREFIX + n for n in NAMES]}.")
    if name not in SPLITS:
        raise ValueError(f"{source} has splits {list(SPLITS)}; got {name!r}.")
    x, labels = _features(set_name, data_home)
    rows = split_rows(len(x))
    kept = [j for j in range(x.shape[1]) if len(np.unique(x[rows["train"], j])) >= MIN_DISTINCT]
    train = x[rows["train"]][:, kept]
    mean, std = train.mean(axis=0), train.std(axis=0)
    part = x[rows[name]][:, kept]
    standardized = ((part - mean) / std).astype(np.float32)
    if labels is None:
        return standardized, None, None
    return standardized, labels[rows[name]], int(labels.max()) + 1
