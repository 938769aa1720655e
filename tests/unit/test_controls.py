"""The control schema: URL parsing corrects every bad value with a note that names the control, keeps good values
exactly, round-trips through to_query, and relevant() shows exactly the controls that matter."""

import math

import pytest

from settings import controls
from settings.controls import BY_KEY, CONTROLS, LR_GRID, grid_options, parse_query, relevant, to_query

DEFAULTS = controls.defaults()


def _label(key: str) -> str:
    return BY_KEY[key].label


# ----------------------------------------------------------------------------------------------------
# parse_query: good values are kept exactly
# ----------------------------------------------------------------------------------------------------


def test_empty_query_gives_the_defaults_without_notes():
    values, notes = parse_query({})
    assert values == DEFAULTS
    assert notes == []
    assert set(values) == {c.key for c in CONTROLS}


@pytest.mark.parametrize(
    "key, raw, expected",
    [
        ("lr", "0.0123", 0.0123),  # off the slider's grid, still kept exactly
        ("lr", "0.3", 0.3),
        ("lr", "1e-05", 1e-5),  # both ends of the range
        ("lr", "10", 10.0),
        ("lr", " 0.5 ", 0.5),
        ("epochs", "7", 7),  # off-grid epochs too
        ("epochs", "5000", 5000),
        ("epochs", "1e3", 1000),
        ("epochs", "60.0", 60),
        ("n", "2", 2),
        ("n", "2000", 2000),
        ("noise", "0", 0.0),
        ("noise", "5", 5.0),
        ("momentum", "0", 0.0),
        ("momentum", "0.99", 0.99),
        ("momentum", "0.37", 0.37),
        ("nesterov", "true", True),
        ("nesterov", "1", True),
        ("nesterov", "On", True),
        ("nesterov", "false", False),
        ("nesterov", "no", False),
        ("seed", "99999", 99999),
        ("dataset", "plane", "plane"),
        ("dataset", "Four-Points", "four-points"),
        ("method", "finite-difference", "finite-difference"),
        ("optimizer", "ADAM", "adam"),
        ("batch", "single sample", "single sample"),
        ("batch_size", "100", 100),
        ("scaling", "x0.1", "x0.1"),
        ("w0", "-100", -100.0),
        ("w2_0", "12.25", 12.25),
        ("b0", "0.001", 0.001),
        ("fd_delta", "1e-07", 1e-7),
        ("fd_delta", "0.0042", 0.0042),
        ("device", "cpu", "cpu"),
    ],
)
def test_valid_values_are_kept_exactly(key, raw, expected):
    values, notes = parse_query({key: raw})
    assert notes == []
    assert values[key] == expected
    assert type(values[key]) is type(expected)
    assert {k: v for k, v in values.items() if k != key} == {k: v for k, v in DEFAULTS.items() if k != key}


def test_whole_number_controls_give_ints():
    values, _ = parse_query({"n": "40", "seed": "3", "epochs": "20", "batch_size": "4"})
    for key in ("n", "seed", "epochs", "batch_size"):
        assert type(values[key]) is int, key


# ----------------------------------------------------------------------------------------------------
# parse_query: bad values are corrected, with a note naming the control
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, raw, expected",
    [
        # not a number at all -> the default
        ("lr", "abc", 0.1),
        ("lr", "", 0.1),
        ("lr", "0x10", 0.1),
        ("epochs", "ten", 60),
        ("n", "many", 30),
        ("momentum", "<script>alert(1)</script>", 0.8),
        # not finite -> the default
        ("lr", "nan", 0.1),
        ("noise", "NaN", 0.5),
        ("lr", "inf", 0.1),
        ("w0", "-inf", -1.0),
        ("b0", "1e400", -2.0),  # overflows to inf
        # out of range -> the nearest end
        ("lr", "0", 1e-5),
        ("lr", "-0.1", 1e-5),
        ("lr", "1e-9", 1e-5),
        ("lr", "100", 10.0),
        ("epochs", "-4", 1),
        ("epochs", "0", 1),
        ("epochs", "5001", 5000),
        ("epochs", "1e9", 5000),
        ("n", "1", 2),
        ("n", "100000", 2000),
        ("noise", "-1", 0.0),
        ("noise", "50", 5.0),
        ("momentum", "5", 0.99),
        ("momentum", "1", 0.99),
        ("momentum", "-0.2", 0.0),
        ("seed", "-1", 0),
        ("seed", "123456789", 99999),
        ("batch_size", "1", 2),
        ("w0", "1000", 100.0),
        ("w2_0", "-1000", -100.0),
        ("fd_delta", "5", 1.0),
        ("fd_delta", "0", 1e-7),
        # not a whole number -> the nearest whole number
        ("epochs", "7.8", 8),
        ("n", "3.7", 4),
        ("seed", "2.2", 2),
        ("batch_size", "9.9", 10),
        # unknown choices -> the default
        ("dataset", "<script>alert(1)</script>", "line"),
        ("dataset", "mnist", "line"),
        ("method", "magic", "optimizer"),
        ("optimizer", "lbfgs", "sgd"),
        ("batch", "huge", "full"),
        ("scaling", "log", "none"),
        ("device", "tpu", "cpu"),
        ("nesterov", "maybe", False),
        ("nesterov", "<b>yes</b>", False),
    ],
)
def test_bad_values_are_corrected_with_a_note_naming_the_control(key, raw, expected):
    values, notes = parse_query({key: raw})
    assert values[key] == expected
    assert type(values[key]) is type(expected)
    assert len(notes) == 1, notes
    assert notes[0].startswith(_label(key) + ":"), notes[0]
    # the other controls keep their defaults
    assert {k: v for k, v in values.items() if k != key} == {k: v for k, v in DEFAULTS.items() if k != key}


def test_note_says_what_value_is_used():
    _, notes = parse_query({"epochs": "-4"})
    assert notes[0].endswith("using 1.")
    _, notes = parse_query({"lr": "abc"})
    assert "using the default 0.1" in notes[0]


def test_every_corrected_value_is_valid_for_its_control():
    """Whatever the URL says, each value that comes out is accepted by its own control unchanged."""
    hostile = {c.key: "<script>alert(1)</script>" for c in CONTROLS}
    for query in (hostile, {c.key: "nan" for c in CONTROLS}, {c.key: "-1e308" for c in CONTROLS}):
        values, notes = parse_query(query)
        assert len(notes) == len(CONTROLS)
        for c in CONTROLS:
            assert c.coerce(values[c.key]) == values[c.key], c.key


def test_several_bad_values_give_one_note_each():
    values, notes = parse_query({"lr": "abc", "epochs": "-4", "dataset": "<script>", "momentum": "5"})
    assert (values["lr"], values["epochs"], values["dataset"], values["momentum"]) == (0.1, 1, "line", 0.99)
    assert len(notes) == 4
    for key in ("lr", "epochs", "dataset", "momentum"):
        assert sum(n.startswith(_label(key) + ":") for n in notes) == 1, key


def test_unknown_keys_are_ignored():
    values, notes = parse_query({"page": "playground", "foo": "<script>", "LR": "0.3", "": "x"})
    assert values == DEFAULTS
    assert notes == []


def test_a_list_value_takes_the_last_one():
    values, notes = parse_query({"lr": ["0.3", "0.5"], "dataset": ["plane", "lab"]})
    assert values["lr"] == 0.5
    assert values["dataset"] == "lab"
    assert notes == []


def test_an_empty_list_is_a_bad_value():
    values, notes = parse_query({"lr": []})
    assert values["lr"] == 0.1
    assert len(notes) == 1 and notes[0].startswith("Learning rate:")


@pytest.mark.parametrize("device", ["cuda", "mps", "CUDA"])
def test_device_not_on_this_machine_falls_back_to_cpu_with_a_note(device):
    values, notes = parse_query({"device": device}, devices=("cpu",))
    assert values["device"] == "cpu"
    assert len(notes) == 1
    assert notes[0].startswith("Device:")
    assert device.upper() in notes[0]


def test_device_present_on_this_machine_is_kept():
    values, notes = parse_query({"device": "cuda"}, devices=("cpu", "cuda"))
    assert values["device"] == "cuda"
    assert notes == []


# ----------------------------------------------------------------------------------------------------
# to_query <-> parse_query
# ----------------------------------------------------------------------------------------------------


def _round_trip(values: dict) -> dict:
    query = to_query(values)
    assert set(query) == {c.key for c in CONTROLS}
    assert all(isinstance(v, str) for v in query.values())
    back, notes = parse_query(query, devices=("cpu", "cuda", "mps"))
    assert notes == []
    return back


def _assert_identical(a: dict, b: dict) -> None:
    assert a == b
    for key in a:
        assert type(a[key]) is type(b[key]), key


def test_round_trip_of_the_defaults():
    _assert_identical(_round_trip(DEFAULTS), DEFAULTS)
    assert to_query(DEFAULTS)["lr"] == "0.1"
    assert to_query(DEFAULTS)["nesterov"] == "false"


@pytest.mark.parametrize(
    "changes",
    [
        {
            "dataset": "plane",
            "n": 2000,
            "noise": 0.0,
            "seed": 99999,
            "optimizer": "adam",
            "lr": 0.0123,
            "epochs": 7,
            "batch": "mini-batch",
            "batch_size": 5,
            "scaling": "x0.1",
            "w0": 2.5,
            "w2_0": -3.0,
            "b0": 0.5,
        },
        {
            "dataset": "single-point",
            "method": "finite-difference",
            "fd_delta": 3e-5,
            "lr": 1e-5,
            "momentum": 0.37,
            "nesterov": True,
            "epochs": 5000,
            "batch": "single sample",
            "device": "cuda",
        },
        {"dataset": "lab", "method": "analytic", "lr": 10.0, "momentum": 0.0, "scaling": "standardize", "w0": -100.0},
    ],
)
def test_round_trip_of_non_default_values(changes):
    values = DEFAULTS | changes
    _assert_identical(_round_trip(values), values)


def test_round_trip_keeps_full_precision():
    """A link must reproduce the run exactly: a URL may carry any float (and number inputs accept any)."""
    values = DEFAULTS | {"lr": 0.0123456789, "w0": 1.23456789, "noise": 0.123456789}
    parsed, notes = parse_query({k: str(v) for k, v in values.items()})
    assert notes == []
    assert parsed == values  # parse_query keeps them ...
    _assert_identical(_round_trip(values), values)  # ... so to_query must too


# ----------------------------------------------------------------------------------------------------
# grid_options
# ----------------------------------------------------------------------------------------------------


def test_grid_options_unchanged_for_a_value_on_the_grid():
    assert grid_options("lr", 0.1) == LR_GRID
    assert grid_options("epochs", 50) == controls.EPOCH_GRID
    assert grid_options("fd_delta", 0.1) == controls.DELTA_GRID


@pytest.mark.parametrize(
    "key, value, before, after",
    [
        ("lr", 0.0123, 0.01, 0.015),
        ("lr", 8.0, 7.0, 10.0),
        ("epochs", 7, 5, 10),
        ("epochs", 4999, 3000, 5000),
        ("fd_delta", 0.0042, 0.003, 0.01),
    ],
)
def test_grid_options_insert_an_off_grid_value_in_order(key, value, before, after):
    grid = BY_KEY[key].options
    options = grid_options(key, value)
    assert len(options) == len(grid) + 1
    assert list(options) == sorted(options)
    assert set(options) == set(grid) | {value}
    i = options.index(value)
    assert options[i - 1] == before and options[i + 1] == after


def test_grid_options_at_the_ends():
    assert grid_options("epochs", 4)[:4] == (1, 2, 3, 4)
    assert grid_options("lr", 1e-5)[0] == 1e-5


def test_lr_grid_is_increasing_and_spans_the_range():
    assert list(LR_GRID) == sorted(set(LR_GRID))
    assert LR_GRID[0] == BY_KEY["lr"].lo == 1e-5
    assert LR_GRID[-1] == BY_KEY["lr"].hi == 10.0
    ratios = [b / a for a, b in zip(LR_GRID, LR_GRID[1:], strict=False)]
    assert max(ratios) <= 5 / 3 + 1e-9  # no big jumps (the largest is 3 -> 5)
    assert DEFAULTS["lr"] in LR_GRID


# ----------------------------------------------------------------------------------------------------
# relevant(): which controls are shown
# ----------------------------------------------------------------------------------------------------

ALWAYS = {"dataset", "method", "lr", "epochs", "batch", "scaling", "w0", "device", "test_fraction", "weight_decay"}


def _shown(**changes) -> set[str]:
    return relevant(DEFAULTS | changes)


def test_relevant_at_the_defaults():
    assert _shown() == ALWAYS | {"n", "noise", "seed", "optimizer", "momentum", "nesterov", "b0"}


@pytest.mark.parametrize(
    "optimizer, momentum, nesterov", [("sgd", True, True), ("rmsprop", True, False), ("adam", False, False)]
)
def test_momentum_and_nesterov_by_optimizer(optimizer, momentum, nesterov):
    shown = _shown(optimizer=optimizer)
    assert "optimizer" in shown
    assert ("momentum" in shown) is momentum
    assert ("nesterov" in shown) is nesterov


def test_adagrad_hides_momentum_and_nesterov():
    shown = _shown(optimizer="adagrad")
    assert "momentum" not in shown and "nesterov" not in shown


@pytest.mark.parametrize("method", ["autograd", "finite-difference", "analytic"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adagrad"])
def test_manual_methods_show_momentum_and_nesterov_but_not_the_optimizer(method, optimizer):
    shown = _shown(method=method, optimizer=optimizer)
    assert "optimizer" not in shown
    assert {"momentum", "nesterov"} <= shown


@pytest.mark.parametrize("batch, has_size", [("full", False), ("mini-batch", True), ("single sample", False)])
def test_batch_size_only_for_mini_batch(batch, has_size):
    assert ("batch_size" in _shown(batch=batch)) is has_size


@pytest.mark.parametrize("method", ["optimizer", "autograd", "finite-difference", "analytic"])
def test_fd_delta_only_for_finite_differences(method):
    assert ("fd_delta" in _shown(method=method)) is (method == "finite-difference")


@pytest.mark.parametrize(
    "dataset, w2, b0, synthetic",
    [
        ("line", False, True, True),
        ("plane", True, True, True),
        ("thermometer", False, True, False),
        ("single-point", False, False, False),
        ("four-points", False, False, False),
        ("lab", False, True, False),
    ],
)
def test_dataset_dependent_controls(dataset, w2, b0, synthetic):
    shown = _shown(dataset=dataset)
    assert ("w2_0" in shown) is w2
    assert ("b0" in shown) is b0
    assert ("n" in shown) is synthetic
    assert ("noise" in shown) is synthetic
    assert ("seed" in shown) is synthetic  # full batch: the seed only draws data
    assert ALWAYS <= shown


def test_seed_shown_for_fixed_data_when_batches_are_shuffled():
    assert "seed" in _shown(dataset="lab", batch="single sample")
    assert "seed" in _shown(dataset="thermometer", batch="mini-batch")
    assert "n" not in _shown(dataset="lab", batch="single sample")


def test_relevant_names_only_real_controls():
    for dataset in controls.DATASET_LABELS:
        for method in controls.METHOD_LABELS:
            for optimizer in controls.OPTIMIZER_LABELS:
                for batch in controls.BATCH_MODES:
                    shown = _shown(dataset=dataset, method=method, optimizer=optimizer, batch=batch)
                    assert shown <= set(BY_KEY)


def test_schema_defaults_are_valid():
    for c in CONTROLS:
        assert c.coerce(c.default) == c.default, c.key
        if c.kind == "choice":
            assert c.default in c.options, c.key
        if c.lo is not None and isinstance(c.default, (int, float)) and not isinstance(c.default, bool):
            assert c.lo <= c.default <= c.hi and math.isfinite(c.default), c.key
